import Foundation
import Logging
import Synchronization

/// Bootstraps swift-log exactly once per process.
enum LoggingBootstrap {
    private static let done = Mutex(false)

    /// Installs the handler for `format`; later calls do nothing.
    static func once(format: LogFormat) {
        done.withLock { done in
            guard !done else { return }
            done = true
            switch format {
            case .human: LoggingSystem.bootstrap(StreamLogHandler.standardError)
            case .json: LoggingSystem.bootstrap(JSONLineLogHandler.init)
            }
        }
    }
}

/// Writes each log record to standard error as one JSON object: time, level, label, message, metadata.
struct JSONLineLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    private let label: String

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var record: [String: Any] = [
            "time": ISO8601DateFormatter.string(
                from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime, .withFractionalSeconds]),
            "level": event.level.rawValue,
            "label": label,
            "message": event.message.description,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            record[key] = Self.jsonValue(value)
        }
        guard var line = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        line.append(10)
        FileHandle.standardError.write(line)
    }

    private static func jsonValue(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(jsonValue)
        case .dictionary(let values): values.mapValues(jsonValue)
        }
    }
}
