import CLibPQ

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
        let statement = "COPY \(table.quoted) (\(columns.map(\.quoted).joined(separator: ", "))) FROM STDIN"
        try await runScript(statement, name: "copy into \(table)")
        var chunk = ""
        chunk.reserveCapacity(70_000)
        do {
            for (number, row) in rows.enumerated() {
                guard row.count == columns.count else {
                    throw PostgresError(
                        .encoding, message: "COPY row \(number + 1) has \(row.count) values for \(columns.count) columns",
                        statementName: "copy into \(table)")
                }
                Self.appendCopyLine(row, to: &chunk)
                if chunk.utf8.count >= 65_536 {
                    try await sendCopyData(chunk)
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            if !chunk.isEmpty { try await sendCopyData(chunk) }
        } catch {
            _ = try? await endCopy(failure: "\(error)", table: table)
            throw error
        }
        return try await endCopy(failure: nil, table: table)
    }

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

    private func sendCopyData(_ chunk: String) async throws {
        try await perform(onCancel: .cancelStatement) { connection in
            let sent = chunk.utf8CString.withUnsafeBufferPointer { bytes in
                PQputCopyData(connection, bytes.baseAddress, Int32(bytes.count - 1))
            }
            guard sent == 1 else {
                throw Self.connectionError(connection, statementName: "copy", configuration: self.configuration)
            }
        }
    }

    /// Finishes (or, given a failure, aborts) the COPY and returns the server's row count.
    private func endCopy(failure: String?, table: PostgresIdentifier) async throws -> Int {
        try await perform(onCancel: .cancelStatement) { connection in
            guard PQputCopyEnd(connection, failure) == 1 else {
                throw Self.connectionError(connection, statementName: "copy into \(table)", configuration: self.configuration)
            }
            var count = 0
            var failure: Error?
            while let result = PQgetResult(connection) {
                do {
                    count = try Self.rows(
                        of: result, on: connection, statementName: "copy into \(table)", configuration: self.configuration
                    ).affectedRows
                } catch { failure = failure ?? error }
            }
            if let failure { throw failure }
            return count
        }
    }
}
