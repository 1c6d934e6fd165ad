import OppsCore

/// A connection the hub store's statements run on: SQLite (`Database`) or PostgreSQL
/// (`OppsPostgres`). The statements are written once, in what both engines accept — `?` marks
/// (the PostgreSQL connection numbers them), `ON CONFLICT … DO UPDATE`, `RETURNING`, `"user"`
/// quoted — and the few places they differ are named in `SQLDialect`.
public protocol SQLConnection: AnyObject {
    /// Runs a statement and returns how many rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue]) throws -> Int
    /// Runs a query and returns every row.
    func query(_ sql: String, _ values: [SQLValue]) throws -> [[SQLValue]]
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func atomically<T>(_ body: () throws -> T) throws -> T
    /// Runs a statement whose result is not needed. Inside a transaction an engine may send it
    /// without waiting (PostgreSQL pipelines it); its failure then surfaces at the next `run`,
    /// `query` or the commit, which fail with it — so a savepoint's release or a transaction's
    /// commit never succeeds over a failed write.
    func send(_ sql: String, _ values: [SQLValue]) throws
    /// Runs a rollback (`ROLLBACK`, `ROLLBACK TO SAVEPOINT …`): what was sent before it is undone
    /// by it, so a failure of those is not this statement's.
    func rollback(_ sql: String) throws
    /// Runs several queries in order and returns each one's rows. Inside a transaction an engine
    /// may send them together (PostgreSQL pipelines them: one round trip for all); each still sees
    /// what the ones before it did, and the first failure is the one thrown.
    func queries(_ statements: [(sql: String, values: [SQLValue])]) throws -> [[[SQLValue]]]
    /// Streams `rows` into `table` (plain inserts: no conflict handling) the cheapest way the
    /// engine has — PostgreSQL's `COPY … FROM STDIN` — inside the current transaction, after
    /// every statement sent before. Engines without one refuse (`StoreError.unsupported`).
    func copy(into table: String, columns: [String], rows: [[SQLValue]]) throws
    /// Writes `count` rows of `width` values with multi-row INSERTs — `head` (`INSERT INTO t (…)
    /// VALUES `), the rows' marks, then `tail` (`ON CONFLICT …` or empty) — at most 300 rows a
    /// statement, inside the current transaction. `row(i, &values)` gives row `i`'s values in
    /// column order. SQLite binds them as given (`SQLRowValues`); other engines send them.
    func insert(_ head: String, width: Int, count: Int, then tail: String, _ row: (Int, inout SQLRowValues) throws -> Void) throws
    /// Whether `copy` is available.
    var copies: Bool { get }
    /// A query whose rows are needed later (`rows()` of what it returns), so the engine can work
    /// on it meanwhile: inside a transaction PostgreSQL starts on it at once; SQLite runs it when
    /// its rows are asked for (never, if they are not). Its rows are read before any later
    /// statement is sent.
    func prefetch(_ sql: String, _ values: [SQLValue]) throws -> SQLPrefetch
    /// Runs `body`, whose `send`s that write without reading (plain INSERT … VALUES, DELETE,
    /// UPDATE) an engine may send as one statement where they write different tables
    /// (PostgreSQL: one round trip). None of them may depend on another's rows.
    func together<T>(_ body: () throws -> T) throws -> T
    /// Runs a query and hands each row to `row` as it is read, keeping none: for reads of a
    /// whole table (a visibility snapshot's 100,000 records), where `query`'s array of arrays
    /// was most of the cost. SQLite reads each value where it lies; other engines may read every
    /// row first. `row` must not use this connection.
    func scan(_ sql: String, _ values: [SQLValue], _ row: (SQLRow) throws -> Void) throws
}

/// One row of a `scan`, valid only inside the call that is handed it. Each value as `SQLValue`
/// reads it (`int`, `string`; a 16-byte blob as an id), nil where the column holds another kind.
public struct SQLRow {
    enum Source {
        case values([SQLValue])
        /// A SQLite statement standing on the row (`Database.scan`).
        case statement(OpaquePointer)
    }
    let source: Source

    public init(_ values: [SQLValue]) { source = .values(values) }
    init(statement: OpaquePointer) { source = .statement(statement) }

    public func int(_ i: Int) -> Int64? {
        switch source {
        case let .values(v): return v[i].int
        case let .statement(s): return Database.int(s, Int32(i))
        }
    }

    public func string(_ i: Int) -> String? {
        switch source {
        case let .values(v): return v[i].string
        case let .statement(s): return Database.string(s, Int32(i))
        }
    }

    /// Any column, copied out as a value.
    public func value(_ i: Int) -> SQLValue {
        switch source {
        case let .values(v): return v[i]
        case let .statement(s): return Database.column(s, Int32(i))
        }
    }

    /// A 16-byte blob as an id (`UUID128(bytes:)`), read in place.
    public func id(_ i: Int) -> UUID128? {
        switch source {
        case let .values(v): return v[i].bytes.flatMap { UUID128(bytes: $0) }
        case let .statement(s): return Database.id(s, Int32(i))
        }
    }
}

/// What differs between the engines in the statements the hub store shares.
public struct SQLDialect: Sendable {
    /// Appended to the read of a replica's row: a writer that read it holds it until commit, so
    /// a push and a pull of one replica through two hubs cannot each write back a stale copy.
    public var lockRow: String
    /// Whether a statement may hold data-modifying parts (`WITH d AS (DELETE …) …`), which all
    /// run on the statement's one snapshot (PostgreSQL; not SQLite).
    public var modifyingWith: Bool
    /// Whether an UPDATE rewrites the index entries of every column it sets, even to the value
    /// the column had (SQLite). PostgreSQL compares: an update that changes no indexed value
    /// touches no index (a HOT update).
    public var rewritesIndexesItSets: Bool

    public init(lockRow: String, modifyingWith: Bool = false, rewritesIndexesItSets: Bool = false) {
        self.lockRow = lockRow
        self.modifyingWith = modifyingWith
        self.rewritesIndexesItSets = rewritesIndexesItSets
    }

    /// One writer at a time per file: nothing to lock.
    public static let sqlite = SQLDialect(lockRow: "", rewritesIndexesItSets: true)
}

extension SQLConnection {
    public func copy(into table: String, columns: [String], rows: [[SQLValue]]) throws {
        throw StoreError(code: StoreError.unsupported, message: "this database has no bulk copy")
    }
    public var copies: Bool { false }

    public func send(_ sql: String, _ values: [SQLValue]) throws { try run(sql, values) }
    public func prefetch(_ sql: String, _ values: [SQLValue]) throws -> SQLPrefetch { SQLPrefetch { try self.query(sql, values) } }
    public func together<T>(_ body: () throws -> T) throws -> T { try body() }
    public func scan(_ sql: String, _ values: [SQLValue], _ row: (SQLRow) throws -> Void) throws {
        for r in try query(sql, values) { try row(SQLRow(r)) }
    }
    public func rollback(_ sql: String) throws { try run(sql, []) }
    public func queries(_ statements: [(sql: String, values: [SQLValue])]) throws -> [[[SQLValue]]] {
        try statements.map { try query($0.sql, $0.values) }
    }
    public func send(_ sql: String) throws { try send(sql, []) }
    public func query(_ sql: String) throws -> [[SQLValue]] { try query(sql, []) }

    /// Inside a transaction: runs `body` so that if it throws, exactly its changes are undone
    /// (`SAVEPOINT`), `undone` runs (what the store cached of them), its error is rethrown, and
    /// the transaction goes on. If undoing fails, throws `SavepointLost`: the transaction then
    /// holds part of `body`'s work and must not commit.
    public func savepoint<T>(_ body: () throws -> T, undone: () throws -> Void) throws -> T {
        try send("SAVEPOINT one")
        do {
            let result = try body()
            try run("RELEASE SAVEPOINT one")
            return result
        } catch {
            do {
                try rollback("ROLLBACK TO SAVEPOINT one")
                try run("RELEASE SAVEPOINT one")
                try undone()
            } catch let undo {
                throw SavepointLost(underlying: undo)
            }
            throw error
        }
    }
    @discardableResult
    public func run(_ sql: String) throws -> Int { try run(sql, []) }

    /// Runs `sql(marks)` once per chunk of at most 500 `values` — `marks` is the chunk's
    /// `?, ?, …` for an `IN (…)`, bound to those values, then `after` — and returns every chunk's
    /// rows: one query per 500 ids instead of one per id, within each engine's limit on bound values.
    /// `twice`: the statement names the list twice (250 values a chunk, each bound twice).
    func query(chunking values: [SQLValue], twice: Bool = false, after: [SQLValue] = [], _ sql: (String) -> String) throws -> [[SQLValue]] {
        var rows = [[SQLValue]]()
        try Self.chunks(of: values, size: twice ? 250 : 500) { marks, chunk in rows += try query(sql(marks), (twice ? chunk + chunk : chunk) + after) }
        return rows
    }

    /// The same for a statement whose result is not needed (`send`: pipelined where the engine can).
    func send(chunking values: [SQLValue], _ sql: (String) -> String) throws {
        try Self.chunks(of: values) { marks, chunk in try send(sql(marks), chunk) }
    }

    private static func chunks(of values: [SQLValue], size: Int = 500, _ body: (String, [SQLValue]) throws -> Void) throws {
        var start = 0
        while start < values.count {
            let chunk = values[start..<min(start + size, values.count)]
            start += chunk.count
            try body(Array(repeating: "?", count: chunk.count).joined(separator: ","), Array(chunk))
        }
    }
}

extension Database: SQLConnection {
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue]) throws -> Int {
        try execute(sql, values)
        return changes
    }

    public func atomically<T>(_ body: () throws -> T) throws -> T {
        try transaction { _ in try body() }
    }
}

/// A query's rows, asked for once (`SQLConnection.prefetch`).
public final class SQLPrefetch {
    private var read: (() throws -> [[SQLValue]])?
    public init(_ read: @escaping () throws -> [[SQLValue]]) { self.read = read }
    public func rows() throws -> [[SQLValue]] {
        guard let read else { throw StoreError(code: -24, message: "a prefetched query's rows were asked for twice") }
        self.read = nil
        return try read()
    }
}
