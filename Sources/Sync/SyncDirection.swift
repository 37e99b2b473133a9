/// One of the two systems a table mapping connects.
public enum SyncSide: String, Sendable, Hashable, CaseIterable, Codable {
    /// The ERP side (Business Central's own tables).
    case local
    /// The CRM side (Business Central's "integration table").
    case integration

    /// The other side.
    public var opposite: SyncSide {
        self == .local ? .integration : .local
    }
}

/// The direction of one synchronization pass: which side is read (source) and which is written (target).
public enum SyncDirection: String, Sendable, Hashable, CaseIterable {
    /// Local (ERP) records are copied to the integration (CRM) side.
    case toIntegration
    /// Integration (CRM) records are copied to the local (ERP) side.
    case fromIntegration

    /// The side that is read.
    public var source: SyncSide {
        self == .toIntegration ? .local : .integration
    }

    /// The side that is written.
    public var target: SyncSide {
        source.opposite
    }

    /// The pass the other way.
    public var opposite: SyncDirection {
        self == .toIntegration ? .fromIntegration : .toIntegration
    }
}

/// The configured direction of a table mapping or of one field mapping.
public enum MappingDirection: String, Sendable, Hashable, CaseIterable {
    /// Only local (ERP) → integration (CRM).
    case toIntegration
    /// Only integration (CRM) → local (ERP).
    case fromIntegration
    /// Both ways.
    case bidirectional

    /// Whether a pass in `direction` is configured.
    public func includes(_ direction: SyncDirection) -> Bool {
        switch self {
        case .toIntegration: direction == .toIntegration
        case .fromIntegration: direction == .fromIntegration
        case .bidirectional: true
        }
    }

    /// The passes a sync run makes, in the order it makes them: to the integration side first.
    public var passes: [SyncDirection] {
        SyncDirection.allCases.filter(includes)
    }
}
