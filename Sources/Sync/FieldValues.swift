/// One record's fields as PostgreSQL text, keyed by column name; a `nil` value is SQL NULL.
///
/// A key that is absent means the column was not read, which is different from a NULL value.
public typealias FieldValues = [String: String?]

/// Resolves a reference through another mapping's couplings.
///
/// Called with the referenced mapping's name and the non-NULL source value (an id on the
/// source side of the running direction); returns the coupled id on the target side, or
/// `nil` when that record is not coupled.
public typealias LookupResolver = (_ mapping: String, _ value: String) -> String?

/// A record named for people: its table and its id, printed as `customer 10000`.
public struct RecordIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The table (or entity) name, e.g. `customer` or `account`.
    public var table: String
    /// The record's primary-key value as text.
    public var id: String

    /// Names the record `id` of `table`.
    public init(table: String, id: String) {
        self.table = table
        self.id = id
    }

    /// `table id`, e.g. `customer 10000`.
    public var description: String {
        "\(table) \(id)"
    }
}
