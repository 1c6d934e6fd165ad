import CSQLite3
import OppsCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error from SQLite or from the store, with SQLite's result code when there is one. The
/// description names the operation, never the data.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "store error \(code): \(message)" }

    /// SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock.
    public var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }

    /// The store cannot answer now but may in a moment (PostgreSQL: a serialization failure,
    /// a deadlock, a lock wait timed out, the server restarting or unreachable).
    public static let unavailable: Int32 = -10
    /// The engine has no such operation (a bulk copy on SQLite).
    public static let unsupported: Int32 = -11
    /// The file was written by a newer build: it holds a migration this one does not know.
    public static let newerSchema: Int32 = -12
    /// A uniqueness constraint refused the write (SQLite's own code, which PostgreSQL's maps to).
    public static let constraint: Int32 = SQLITE_CONSTRAINT

    /// Worth retrying: the request failed as a whole and nothing of it was kept.
    public var isRetryable: Bool { isBusy || code == Self.unavailable }

    /// What of the file or its disk failed (SQLite's primary code; nil: neither, or another
    /// engine): a person is told this, not the code (`StoreError.replicaReason`).
    public var fileFailure: FileFailure? {
        guard code >= 0 else { return nil }
        switch code & 0xFF {
        case SQLITE_FULL, SQLITE_IOERR: return .diskFullOrFailing
        case SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN: return .notWritable
        case SQLITE_CORRUPT, SQLITE_NOTADB: return .damaged
        default: return nil
        }
    }

    public enum FileFailure: Sendable {
        /// The disk is full, or a read or write failed (removed, failing).
        case diskFullOrFailing
        /// The file or its folder may not be written (permissions, a read-only disk).
        case notWritable
        /// The file is not a database, or its pages do not read as one.
        case damaged
    }
}

/// A value bound to or read from a statement.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// One SQLite connection. Not shareable between threads: each owner (the hub's writer, a
/// replica) holds its own, and every statement runs through `execute`, `query` or a
/// `transaction` closure, so the raw handle never escapes this module.
public final class Database {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// Multi-row INSERTs (`insert(_:width:count:then:_:)`), by their parts.
    private var multiRow: [MultiRowKey: OpaquePointer] = [:]
    public let path: String

    /// Opens (creating if needed) the database at `path`, in WAL mode with foreign keys on.
    /// `durable`: every commit is fsynced before it returns (`synchronous=FULL`), so what was
    /// committed survives a power loss, not only a process crash — for the hub, whose commit is
    /// the acknowledgement of a push.
    public init(path: String, readOnly: Bool = false, durable: Bool = false) throws(StoreError) {
        self.path = path
        if !readOnly { Database.createPrivately(path) }
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            handle = nil
            throw StoreError(code: rc, message: "open \(path): \(message)")
        }
        sqlite3_busy_timeout(handle, 5000)
        if !readOnly {
            try execute("PRAGMA journal_mode=WAL")
            try execute(durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
        }
        try execute("PRAGMA foreign_keys=ON")
    }

    /// Creates an empty file readable by its owner alone (0600) if none is there: a hub or
    /// replica database holds a company's pipeline. SQLite gives its -wal and -shm files the
    /// database file's mode, so they are private too.
    static func createPrivately(_ path: String) {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
    }

    deinit {
        for (_, s) in statements { sqlite3_finalize(s) }
        for (_, s) in multiRow { sqlite3_finalize(s) }
        sqlite3_close_v2(handle)
    }

    private func error(_ rc: Int32, _ what: String) -> StoreError {
        StoreError(code: rc, message: "\(what): \(String(cString: sqlite3_errmsg(handle)))")
    }

    func failure(_ rc: Int32, _ what: String) -> StoreError { error(rc, what) }

    /// A multi-row INSERT's statement, prepared the first time its size is asked for.
    func multiRowStatement(_ key: MultiRowKey) throws(StoreError) -> OpaquePointer {
        if let s = multiRow[key] { return s }
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, multiRowInsert(key.head, width: key.width, rows: key.rows, tail: key.tail), -1, &s, nil)
        guard rc == SQLITE_OK, let s else { throw error(rc, "prepare") }
        multiRow[key] = s
        return s
    }

    /// Steps a statement that returns no rows to its end.
    func step(_ s: OpaquePointer) throws(StoreError) {
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { return }
            if rc != SQLITE_ROW { throw error(rc, "step") }
        }
    }

    private func prepared(_ sql: String) throws(StoreError) -> OpaquePointer {
        if let s = statements[sql] {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
            return s
        }
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &s, nil)
        guard rc == SQLITE_OK, let s else { throw error(rc, "prepare") }
        statements[sql] = s
        return s
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private func bind(_ s: OpaquePointer, _ values: [SQLValue]) throws(StoreError) {
        for (i, v) in values.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch v {
            case .null: rc = sqlite3_bind_null(s, idx)
            case let .integer(n): rc = sqlite3_bind_int64(s, idx, n)
            case let .real(d): rc = sqlite3_bind_double(s, idx, d)
            case let .text(t): rc = sqlite3_bind_text(s, idx, t, -1, Database.transient)
            case let .blob(b): rc = b.withUnsafeBytes { sqlite3_bind_blob(s, idx, $0.baseAddress, Int32($0.count), Database.transient) }
            }
            guard rc == SQLITE_OK else { throw error(rc, "bind") }
        }
    }

    static func column(_ s: OpaquePointer, _ i: Int32) -> SQLValue {
        switch sqlite3_column_type(s, i) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(s, i))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(s, i))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(s, i)))
        case SQLITE_BLOB:
            let n = Int(sqlite3_column_bytes(s, i))
            guard n > 0, let p = sqlite3_column_blob(s, i) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
        default: return .null
        }
    }

    /// Runs a statement that returns no rows (or whose rows are ignored).
    public func execute(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) {
        let s = try prepared(sql)
        defer { sqlite3_reset(s) }
        try bind(s, values)
        try step(s)
    }

    /// Runs a query and returns every row.
    public func query(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> [[SQLValue]] {
        let s = try prepared(sql)
        defer { sqlite3_reset(s) }
        try bind(s, values)
        var rows = [[SQLValue]]()
        let n = sqlite3_column_count(s)
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { return rows }
            guard rc == SQLITE_ROW else { throw error(rc, "step") }
            rows.append((0..<n).map { Self.column(s, $0) })
        }
    }

    /// Runs a query and hands each row to `row` where SQLite holds it (`SQLConnection.scan`):
    /// no array per row, no copy of a value `row` does not read.
    public func scan(_ sql: String, _ values: [SQLValue], _ row: (SQLRow) throws -> Void) throws {
        let s = try prepared(sql)
        defer { sqlite3_reset(s) }
        try bind(s, values)
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw error(rc, "step") }
            try row(SQLRow(statement: s))
        }
    }

    static func int(_ s: OpaquePointer, _ i: Int32) -> Int64? {
        sqlite3_column_type(s, i) == SQLITE_INTEGER ? sqlite3_column_int64(s, i) : nil
    }

    static func string(_ s: OpaquePointer, _ i: Int32) -> String? {
        guard sqlite3_column_type(s, i) == SQLITE_TEXT, let p = sqlite3_column_text(s, i) else { return nil }
        return String(cString: p)
    }

    static func id(_ s: OpaquePointer, _ i: Int32) -> UUID128? {
        guard sqlite3_column_type(s, i) == SQLITE_BLOB, sqlite3_column_bytes(s, i) == 16, let p = sqlite3_column_blob(s, i) else { return nil }
        return UUID128(bytes: UnsafeRawBufferPointer(start: p, count: 16))
    }

    /// A number that changes whenever another connection commits to the database (SQLite's
    /// `data_version`); this connection's own commits do not change it.
    public func dataVersion() throws -> Int64 { try query("PRAGMA data_version").first?[0].int ?? 0 }

    /// Runs `body` in one immediate transaction: committed when it returns, rolled back when
    /// it throws — nothing half-written is ever left behind.
    public func transaction<T>(_ body: (Database) throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body(self)
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Copies the whole database to `path` with SQLite's online backup, while others keep
    /// reading and writing: the snapshot the copy began with, in steps.
    /// `progress` receives (bytes done, bytes total) after each step.
    public func backup(to path: String, progress: (Int64, Int64) -> Void = { _, _ in }) throws(StoreError) {
        var dest: OpaquePointer?
        Database.createPrivately(path)
        guard sqlite3_open_v2(path, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK else {
            sqlite3_close(dest)
            throw StoreError(code: SQLITE_CANTOPEN, message: "cannot create \(path)")
        }
        defer { sqlite3_close(dest) }
        // One read transaction on the source for the whole copy: its snapshot is what is copied.
        // Without it each step took and dropped the source's lock, and a commit by any other
        // connection between two steps (a serving hub commits every few milliseconds) restarted
        // the copy from its first page: a backup of a busy hub never ended. In WAL mode the
        // hub's writers go on meanwhile; only the log's checkpoint waits for the copy's end.
        guard sqlite3_get_autocommit(handle) != 0 else { throw StoreError(code: SQLITE_MISUSE, message: "backup inside a transaction") }
        try execute("BEGIN")
        defer { sqlite3_exec(handle, "COMMIT", nil, nil, nil) }
        _ = try query("SELECT count(*) FROM sqlite_master", [])
        let pageSize = try query("PRAGMA page_size", []).first?.first?.int ?? 4096
        guard let b = sqlite3_backup_init(dest, "main", handle, "main") else {
            throw StoreError(code: sqlite3_errcode(dest), message: "backup: \(String(cString: sqlite3_errmsg(dest)))")
        }
        while true {
            let rc = sqlite3_backup_step(b, 256)
            let pages = Int64(sqlite3_backup_pagecount(b))
            progress((pages - Int64(sqlite3_backup_remaining(b))) * pageSize, pages * pageSize)
            if rc == SQLITE_DONE { break }
            if rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED { continue }
            sqlite3_backup_finish(b)
            throw StoreError(code: rc, message: "backup step failed")
        }
        let rc = sqlite3_backup_finish(b)
        guard rc == SQLITE_OK else { throw StoreError(code: rc, message: "backup failed") }
    }

    /// `PRAGMA integrity_check` says ok.
    public func isIntact() -> Bool {
        (try? query("PRAGMA integrity_check"))?.first?.first == .text("ok")
    }

    /// The rowid of the last insert on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Rows this connection has inserted, changed or deleted since it opened: with
    /// `dataVersion`, whether anything in the file may have changed since it was last read.
    public var totalChanges: Int64 { sqlite3_total_changes64(handle) }
}

extension SQLValue {
    public var int: Int64? { if case let .integer(n) = self { return n }; return nil }
    public var string: String? { if case let .text(t) = self { return t }; return nil }
    public var bytes: [UInt8]? { if case let .blob(b) = self { return b }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }
}
