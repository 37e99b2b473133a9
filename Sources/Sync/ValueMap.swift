/// A named two-way translation between local and integration values, such as country codes and
/// country names (`NO ↔ Norway`) or payment terms and option-set values: Business Central's
/// integration option mapping. A mappings file declares it under `value_maps:`; the rule
/// `map(NAME)` applies it, local → integration in `to_integration`, the inverse in `from_integration`.
///
/// Its pairs are one-to-one (the file check refuses two local values with one integration value),
/// so each direction is the other's inverse.
public struct ValueMap: Sendable, Equatable {
    /// The map's name, spelled like a mapping's (`COUNTRIES`, `PAYMENT-TERMS`).
    public var name: String
    /// The pairs, in file order.
    public var pairs: [ValuePair]
    /// What `map(NAME)` yields in `to_integration` for a local value that is in no pair.
    public var toIntegrationDefault: UnmappedValue
    /// What `map(NAME)` yields in `from_integration` for an integration value that is in no pair.
    public var fromIntegrationDefault: UnmappedValue

    /// A value map; a value in no pair fails its record in both directions unless said otherwise.
    public init(name: String, pairs: [ValuePair], toIntegrationDefault: UnmappedValue = .fail,
                fromIntegrationDefault: UnmappedValue = .fail) {
        self.name = name
        self.pairs = pairs
        self.toIntegrationDefault = toIntegrationDefault
        self.fromIntegrationDefault = fromIntegrationDefault
    }

    /// What a value in no pair yields in `direction`.
    public func unmappedValue(for direction: SyncDirection) -> UnmappedValue {
        direction == .toIntegration ? toIntegrationDefault : fromIntegrationDefault
    }

    /// The map as `map(NAME)` applies it in a pass in `direction`.
    public func translation(for direction: SyncDirection) -> ValueTranslation {
        let entries = pairs.map { pair in
            direction == .toIntegration ? (pair.local, pair.integration) : (pair.integration, pair.local)
        }
        return ValueTranslation(
            map: name, direction: direction,
            values: Dictionary(entries, uniquingKeysWith: { first, _ in first }),
            unmapped: unmappedValue(for: direction))
    }
}

/// One pair of a value map: a local value and the integration value it stands for.
public struct ValuePair: Sendable, Equatable {
    /// The value on the local (ERP) side, e.g. `NO`.
    public var local: String
    /// The value on the integration (CRM) side, e.g. `Norway`.
    public var integration: String

    /// The pair `local ↔ integration`.
    public init(local: String, integration: String) {
        self.local = local
        self.integration = integration
    }
}

/// What `map(NAME)` does with a value that is in none of the map's pairs.
public enum UnmappedValue: Sendable, Equatable {
    /// The record fails, naming the map and the value.
    case fail
    /// This value (NULL when `nil`) is used instead.
    case replace(with: String?)
}

/// A value map in one direction, bound into a `map(NAME)` rule when its mapping is loaded.
public struct ValueTranslation: Sendable, Equatable {
    /// The map's name.
    public let map: String
    /// The pass this translation serves: keys are local values in `toIntegration`, integration values otherwise.
    public let direction: SyncDirection
    /// Each source value with its target value.
    public let values: [String: String]
    /// What a source value that is not a key yields.
    public let unmapped: UnmappedValue

    /// `value`'s counterpart, the default when it has none, or an `unmappedValue` error saying how to fix it.
    func translate(_ value: String) throws(TransformationError) -> String? {
        if let translated = values[value] { return translated }
        guard case .replace(let fallback) = unmapped else {
            let side = direction == .toIntegration ? "local" : "integration"
            throw TransformationError(
                code: .unmappedValue,
                message: "\(quoted(value)) is no \(side) value of value map \(map); add it to \(map) under value_maps "
                    + "in the mappings file, or give \(map) a default_\(direction.storedName), and apply the file again",
                value: value)
        }
        return fallback
    }
}

extension FieldMapping {
    /// The value maps the field's `map` rules name, in either direction.
    public var referencedValueMaps: Set<String> {
        toIntegration.referencedValueMaps.union(fromIntegration.referencedValueMaps)
    }

    /// The field with its `map` rules bound to `valueMaps`, each chain for its own direction.
    public func binding(_ valueMaps: [String: ValueMap]) -> FieldMapping {
        var field = self
        field.toIntegration = toIntegration.binding(valueMaps, for: .toIntegration)
        field.fromIntegration = fromIntegration.binding(valueMaps, for: .fromIntegration)
        return field
    }
}

extension MappingRow {
    /// The value maps the fields' `map` rules name, sorted; rule text that does not parse (written
    /// by SQL) names none, as `mappings show` still prints it as stored.
    public var valueMapNames: [String] {
        let rules = fields.flatMap { [$0.toIntegration, $0.fromIntegration] }.compactMap { $0 }
        return Set(rules.flatMap { text in (try? TransformationChain(parsing: text))?.referencedValueMaps ?? [] }).sorted()
    }
}
