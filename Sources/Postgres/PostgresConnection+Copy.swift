import CLibPQ

/// The sending side of a `COPY … FROM STDIN` in progress; valid only inside the body of
/// `PostgresConnection.copy(into:columns:_:)`.
public struct PostgresCopyWriter: Sendable {
    let connection: PostgresConnection
    let statementName: String

    /// Sends COPY text-format data: tab-separated values, `\N` for NULL, backslash escapes, a
    /// newline after each row — what `copyOut` delivers. A piece need not end on a row boundary.
    public func send(_ data: [UInt8]) async throws {
        try await connection.sendCopyData(data, statementName: statementName)
    }
}

extension PostgresConnection {
    /// Bulk-writes rows into `table` with `COPY … FROM STDIN` and returns how many were written.
    ///
    /// Rows are encoded in COPY's text format and sent in chunks of about 64 KiB, so memory follows
    /// the chunk, not the sequence: pass a lazy sequence to stream millions of rows. Each row has one
    /// value per column (an `Optional` for NULL). A row with the wrong number of values, or a value
    /// the server refuses, aborts the whole COPY and nothing is written.
    @discardableResult
    public func copy<Rows: Sequence>(
        into table: PostgresIdentifier, columns: [PostgresIdentifier], rows: Rows
    ) async throws -> Int where Rows.Element == [any PostgresEncodable] {
        try await copy(into: table, columns: columns) { writer in
            var chunk = ""
            chunk.reserveCapacity(Self.copyChunkBytes + 4096)
            for (number, row) in rows.enumerated() {
                guard row.count == columns.count else {
                    throw PostgresError(
                        .encoding, message: "COPY row \(number + 1) has \(row.count) values for \(columns.count) columns",
                        statementName: "copy into \(table)")
                }
                Self.appendCopyLine(row, to: &chunk)
                if chunk.utf8.count >= Self.copyChunkBytes {
                    try await writer.send(Array(chunk.utf8))
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            if !chunk.isEmpty { try await writer.send(Array(chunk.utf8)) }
        }
    }

    /// Bulk-writes COPY text-format data that `body` sends through the writer into `table`, with
    /// `COPY … FROM STDIN`, and returns how many rows were written.
    ///
    /// For data that is already in COPY's format — another connection's `copyOut`, piped without
    /// decoding. If `body` throws (or the task is cancelled) the COPY is aborted, nothing is
    /// written and the connection stays usable.
    @discardableResult
    public func copy(
        into table: PostgresIdentifier, columns: [PostgresIdentifier], isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresCopyWriter) async throws -> Void
    ) async throws -> Int {
        let name = "copy into \(table)"
        try await runScript("COPY \(table.quoted) (\(columns.map(\.quoted).joined(separator: ", "))) FROM STDIN", name: name)
        do {
            try await body(PostgresCopyWriter(connection: self, statementName: name))
        } catch {
            _ = try? await endCopy(failure: "\(error)", statementName: name)
            throw error
        }
        return try await endCopy(failure: nil, statementName: name)
    }

    /// Streams the rows of `query` with `COPY (query) TO STDOUT` to `body`, in COPY's text format,
    /// and returns how many rows the server sent.
    ///
    /// `body` receives pieces of about 64 KiB made of whole rows (each ending in a newline), one
    /// at a time: the next piece is read only when `body` has returned, so memory follows the piece,
    /// not the result, and a slow consumer holds the server back instead of filling memory. COPY
    /// takes no parameters, so `query` may interpolate identifiers but no values. If `body` throws
    /// or the task is cancelled, the server is asked to stop, the rest of the stream is discarded
    /// and the connection stays usable.
    @discardableResult
    public func copyOut(
        _ query: PostgresQuery, name: String? = nil, isolation: isolated (any Actor)? = #isolation,
        _ body: ([UInt8]) async throws -> Void
    ) async throws -> Int {
        let statementName = name ?? "copy out"
        let (sql, bindings) = query.rendered()
        guard bindings.isEmpty else {
            throw PostgresError(
                .encoding, message: "COPY takes no parameters: interpolate identifiers, not values, into a copyOut query",
                statementName: statementName)
        }
        try await startCopyOut("COPY (\(sql)) TO STDOUT", statementName: statementName)
        do {
            while true {
                let piece = try await readCopyData(statementName: statementName)
                if !piece.data.isEmpty { try await body(piece.data) }
                if let rows = piece.rows { return rows }
            }
        } catch {
            await abandonCopyOut()
            throw error
        }
    }

    /// About how much COPY data travels per call, either way.
    private static var copyChunkBytes: Int { 65_536 }

    /// Appends one row in COPY text format: tab-separated, `\N` for NULL, backslash escapes.
    static func appendCopyLine(_ row: [any PostgresEncodable], to line: inout String) {
        for (index, value) in row.enumerated() {
            if index > 0 { line += "\t" }
            guard let text = value.postgresText else {
                line += "\\N"
                continue
            }
            for character in text.unicodeScalars {
                switch character {
                case "\\": line += "\\\\"
                case "\n": line += "\\n"
                case "\r": line += "\\r"
                case "\t": line += "\\t"
                default: line.unicodeScalars.append(character)
                }
            }
        }
        line += "\n"
    }

    func sendCopyData(_ data: [UInt8], statementName: String) async throws {
        guard !data.isEmpty else { return }
        try await perform(onCancel: .cancelStatement) { connection in
            let sent = data.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { PQputCopyData(connection, $0.baseAddress, Int32($0.count)) }
            }
            guard sent == 1 else {
                throw Self.connectionError(connection, statementName: statementName, configuration: self.configuration)
            }
        }
    }

    /// Finishes (or, given a failure, aborts) the COPY and returns the server's row count. An abort
    /// runs even in a cancelled task, so that the connection leaves COPY mode.
    private func endCopy(failure: String?, statementName: String) async throws -> Int {
        try await perform(onCancel: failure == nil ? .cancelStatement : .runEvenIfCancelled) { connection in
            guard PQputCopyEnd(connection, failure) == 1 else {
                throw Self.connectionError(connection, statementName: statementName, configuration: self.configuration)
            }
            return try Self.copyResult(on: connection, statementName: statementName, configuration: self.configuration)
        }
    }

    /// Sends the COPY … TO STDOUT statement (one statement: the extended protocol refuses more).
    private func startCopyOut(_ statement: String, statementName: String) async throws {
        try await perform(onCancel: .cancelStatement) { connection in
            let result = PQexecParams(connection, statement, 0, nil, nil, nil, nil, 0)
            if let result, PQresultStatus(result) == PGRES_COPY_OUT {
                PQclear(result)
                return
            }
            _ = try Self.rows(of: result, on: connection, statementName: statementName, configuration: self.configuration)
            throw PostgresError(.server, message: "the statement did not start a COPY TO STDOUT", statementName: statementName)
        }
    }

    /// Reads rows until about 64 KiB have arrived or the COPY ended; at the end, also the row count.
    private func readCopyData(statementName: String) async throws -> (data: [UInt8], rows: Int?) {
        try await perform(onCancel: .cancelStatement) { connection in
            var data: [UInt8] = []
            data.reserveCapacity(Self.copyChunkBytes + 4096)
            while data.count < Self.copyChunkBytes {
                var buffer: UnsafeMutablePointer<CChar>?
                let length = PQgetCopyData(connection, &buffer, 0)
                if length > 0, let buffer {
                    data.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: Int(length)))
                    PQfreemem(buffer)
                } else if length == -1 {
                    let rows = try Self.copyResult(on: connection, statementName: statementName, configuration: self.configuration)
                    return (data, rows)
                } else {
                    throw Self.connectionError(connection, statementName: statementName, configuration: self.configuration)
                }
            }
            return (data, nil)
        }
    }

    /// Leaves a COPY TO STDOUT that its consumer gave up on: asks the server to stop, discards what
    /// is still in flight and the final result. Runs even in a cancelled task; a no-op when the
    /// COPY already ended.
    private func abandonCopyOut() async {
        _ = try? await perform(onCancel: .runEvenIfCancelled) { connection in
            guard PQtransactionStatus(connection) == PQTRANS_ACTIVE else { return }
            if let canceller = PQgetCancel(connection) {
                var message = [CChar](repeating: 0, count: 256)
                _ = PQcancel(canceller, &message, Int32(message.count))
                PQfreeCancel(canceller)
            }
            var buffer: UnsafeMutablePointer<CChar>?
            while PQgetCopyData(connection, &buffer, 0) > 0 {
                PQfreemem(buffer)
                buffer = nil
            }
            while let result = PQgetResult(connection) { PQclear(result) }
        }
    }

    /// The results that end a COPY: its row count, or the first error among them.
    private static func copyResult(
        on connection: OpaquePointer, statementName: String, configuration: PostgresConfiguration
    ) throws -> Int {
        var count = 0
        var failure: Error?
        while let result = PQgetResult(connection) {
            do {
                count = try rows(of: result, on: connection, statementName: statementName, configuration: configuration).affectedRows
            } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
        return count
    }
}
