/// Append-only, named schema migrations (STYLE.md: never erase a replica on a schema change —
/// it may hold unsynced work). Each migration runs once, in order, in its own transaction, and
/// is recorded by name; a database that knows a migration this build does not is newer than
/// the build and is refused.
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public var name: String
        public var sql: [String]
        public init(_ name: String, _ sql: [String]) {
            self.name = name
            self.sql = sql
        }
    }

    public private(set) var migrations: [Migration] = []

    public init() {}

    public mutating func register(_ name: String, _ sql: String...) { register(name, sql) }

    public mutating func register(_ name: String, _ sql: [String]) {
        precondition(!migrations.contains { $0.name == name }, "duplicate migration \(name)")
        migrations.append(Migration(name, sql))
    }

    /// Applies the migrations the database lacks; returns their names.
    @discardableResult
    public func migrate(_ db: any SQLConnection) throws -> [String] {
        try db.run("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, position INTEGER NOT NULL)")
        let applied = try db.query("SELECT name FROM schema_migrations ORDER BY position").compactMap { $0[0].string }
        let known = migrations.map(\.name)
        if let unknown = applied.first(where: { !known.contains($0) }) {
            throw StoreError(code: StoreError.newerSchema, message: "the database was written by a newer version (migration \(unknown)); upgrade before opening it")
        }
        var done = [String]()
        for (position, m) in migrations.enumerated() where !applied.contains(m.name) {
            try db.atomically {
                for statement in m.sql { try db.run(statement) }
                try db.run("INSERT INTO schema_migrations (name, position) VALUES (?, ?)", [.text(m.name), .integer(Int64(position))])
            }
            done.append(m.name)
        }
        return done
    }
}
