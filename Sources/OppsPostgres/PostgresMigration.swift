import OppsStore

/// Moving a hub from its SQLite file to PostgreSQL (`opps-hub migrate`): every row of every
/// table, with its numbers as they were — sequences, conflict ids, replica indexes (record blobs
/// name replicas by them), user ids, page tokens, batch idempotency records — so replicas do not
/// notice: their cursors, tokens and pending batches stay valid. One transaction: the target
/// holds the whole hub, or nothing.
extension PostgresHubStore {
    /// The tables in the order they are copied (foreign keys first).
    public static let migratedTables = [
        "meta", "users", "tokens", "workspaces", "replica_ids", "records", "record_index", "refs", "teams", "log", "conflicts", "replicas", "batches",
        "replica_records", "replica_staged", "admin_log", "gone",
    ]

    /// Copies the hub in `source` into this (empty) database. `progress` gets (table, rows copied
    /// of it so far, rows in it). Returns the rows copied per table.
    public func importHub(from source: SQLiteHubStore, progress: (String, Int, Int) -> Void = { _, _, _ in }) throws -> [String: Int] {
        guard try hubID() == nil else { throw StoreError(code: -22, message: "the target database already holds a hub") }
        let from = source.database
        var copied = [String: Int]()
        try transaction {
            // Opening this store raised its page-token epoch (`pageTokenFloor`); the source's
            // comes instead, and every hub that opens the database after raises it above that.
            _ = try database.run("DELETE FROM meta WHERE key = 'page_token_epoch'", [])
            for table in Self.migratedTables {
                let info = try from.query("SELECT name, pk FROM pragma_table_info('\(table)') ORDER BY cid", [])
                let columns = info.compactMap { $0[0].string }
                let quoted = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                let key = info.filter { ($0[1].int ?? 0) > 0 }.sorted { ($0[1].int ?? 0) < ($1[1].int ?? 0) }.compactMap { $0[0].string }
                // A table keyed by rowid (`batches`, its key in a unique index) in rowid order.
                let order = key.isEmpty ? "rowid" : key.map { "\"\($0)\"" }.joined(separator: ", ")
                let total = Int(try from.query("SELECT count(*) FROM \(table)", []).first?[0].int ?? 0)
                // Rows in key order, a chunk at a time: memory stays flat however big the hub.
                let perStatement = max(1, 5000 / max(1, columns.count))
                var done = 0
                var offset = 0
                while true {
                    let rows = try from.query("SELECT \(quoted) FROM \(table) ORDER BY \(order) LIMIT 20000 OFFSET \(offset)", [])
                    if rows.isEmpty { break }
                    offset += rows.count
                    var start = 0
                    while start < rows.count {
                        let chunk = rows[start..<min(start + perStatement, rows.count)]
                        start += chunk.count
                        let marks = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
                        try database.run(
                            "INSERT INTO \(table) (\(quoted)) VALUES " + Array(repeating: marks, count: chunk.count).joined(separator: ", "),
                            chunk.flatMap { $0 })
                        done += chunk.count
                        progress(table, done, total)
                    }
                }
                copied[table] = done
            }
            // Numbers PostgreSQL hands out itself continue after the copied ones.
            for (table, column) in [("users", "id"), ("replica_ids", "idx"), ("admin_log", "id")] {
                try database.run(
                    "SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), (SELECT coalesce(max(\(column)), 0) + 1 FROM \(table)), false)", [])
            }
            try directoryChanged()
        }
        return copied
    }
}
