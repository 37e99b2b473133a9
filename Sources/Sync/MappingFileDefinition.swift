import Postgres
import YAMLFile

/// A mappings file as read: the endpoints it declares, the table mappings between them and their value maps, each
/// part remembering where it was written so that later checks (against the endpoints, against the
/// stored mappings) can point at the line.
public struct MappingFileDefinition: Sendable {
    /// The file's name, printed in front of every problem.
    public var file: String
    /// The endpoints, in file order.
    public var endpoints: [EndpointDefinition]
    /// The table mappings, in file order.
    public var mappings: [TableMappingDefinition]
    /// The value maps that `map(NAME)` rules use, in file order.
    public var valueMaps: [ValueMap]

    /// A definition with these parts.
    public init(file: String, endpoints: [EndpointDefinition], mappings: [TableMappingDefinition], valueMaps: [ValueMap] = []) {
        self.file = file
        self.endpoints = endpoints
        self.mappings = mappings
        self.valueMaps = valueMaps
    }

    /// The endpoint called `name`, if the file declares it.
    public func endpoint(_ name: String) -> EndpointDefinition? {
        endpoints.first { $0.name == name }
    }
}

/// A system being integrated, as a mappings file declares it. Its secrets are never in the file: a
/// PostgreSQL endpoint's connection string comes from `COUPLET_ENDPOINT_<NAME>_URL`, a Web API's
/// client secret from `COUPLET_ENDPOINT_<NAME>_SECRET` (see `EndpointDirectory`).
public struct EndpointDefinition: Sendable, Equatable {
    /// The endpoint's name: a letter, then up to 62 letters, digits or `_`.
    public var name: String
    /// The kind of connector: `postgres`, `dataverse` or `business-central`.
    public var kind: String
    /// A note for people, if any.
    public var description: String?
    /// The kind's settings that are not secret (`url`, `tenant`, `client_id`, …); none for `postgres`.
    public var settings: [String: String]
    /// Where the endpoint is declared.
    public var place: FilePlace

    /// An endpoint; a PostgreSQL database unless said otherwise.
    public init(
        name: String, kind: String = "postgres", description: String? = nil, settings: [String: String] = [:], place: FilePlace = .start
    ) {
        self.name = name
        self.kind = kind
        self.description = description
        self.settings = settings
        self.place = place
    }
}

/// One table mapping as a mappings file declares it: what the engine runs (`mapping`) and what
/// only the store keeps (dependencies, whether it is enabled), with the places of its parts.
public struct TableMappingDefinition: Sendable {
    /// The sides, fields and settings, as `MappingStore.load` will read them back (watermarks nil).
    public var mapping: MappingDefinition
    /// The mappings that must run before this one, in file order.
    public var dependsOn: [String]
    /// Whether its jobs run.
    public var isEnabled: Bool
    /// Where each part was written; parts not listed fall back to the part that contains them.
    public var places: [MappingPart: FilePlace]

    /// A mapping definition with the places of its parts.
    public init(mapping: MappingDefinition, dependsOn: [String] = [], isEnabled: Bool = true,
                places: [MappingPart: FilePlace] = [:]) {
        self.mapping = mapping
        self.dependsOn = dependsOn
        self.isEnabled = isEnabled
        self.places = places
    }

    /// The mapping's name.
    public var name: String { mapping.settings.name }

    /// Where `part` was written, else where the nearest part containing it was, else the file's start.
    public func place(of part: MappingPart) -> FilePlace {
        var current: MappingPart? = part
        while let part = current {
            if let place = places[part] { return place }
            current = part.container
        }
        return .start
    }
}

/// A part of a table mapping in its file, to say where a problem is.
public enum MappingPart: Hashable, Sendable {
    /// The mapping as a whole (its first key).
    case mapping
    /// Its name.
    case name
    /// The `depends_on` item at this 0-based index.
    case dependency(Int)
    /// One side as a whole.
    case side(SyncSide)
    /// A side's endpoint name.
    case endpoint(SyncSide)
    /// A side's table.
    case table(SyncSide)
    /// A side's key column.
    case key(SyncSide)
    /// A side's modified-on column.
    case modified(SyncSide)
    /// A side's filter.
    case filter(SyncSide)
    /// The field mapping at this 0-based index.
    case field(Int)
    /// The column of a field mapping on one side.
    case column(field: Int, side: SyncSide)
    /// The rules of a field mapping for one direction.
    case rules(field: Int, direction: SyncDirection)
    /// The mapping a `lookup` rule of a field mapping names.
    case lookup(field: Int, direction: SyncDirection, mapping: String)
    /// The value map a `map` rule of a field mapping names.
    case valueMap(field: Int, direction: SyncDirection, name: String)

    /// The part this one is written in.
    public var container: MappingPart? {
        switch self {
        case .mapping: nil
        case .name, .dependency, .side, .field: .mapping
        case .endpoint(let side), .table(let side), .key(let side), .modified(let side), .filter(let side): .side(side)
        case .column(let field, _), .rules(let field, _): .field(field)
        case .lookup(let field, let direction, _), .valueMap(let field, let direction, _): .rules(field: field, direction: direction)
        }
    }
}
