import CSQLite3
import OppsCore

/// The values of the rows a multi-row INSERT writes (`SQLConnection.insert`), given one after
/// another in column order. On SQLite they go straight into the prepared statement's parameters:
/// no `[SQLValue]` per row, no array of every row's values, no statement text built per call —
/// what a large push's rows cost beyond SQLite's own work (BENCHMARKS.md "Thirty-sixth session").
/// On other engines they are collected as `SQLValue`s and sent as any statement is.
public struct SQLRowValues {
    /// SQLite: the statement bound into, and the next parameter's number.
    let statement: OpaquePointer?
    var parameter: Int32 = 1
    /// SQLite: the first binding that failed (SQLITE_OK: none).
    var failure: Int32 = SQLITE_OK
    /// Other engines: the values so far.
    var collected: [SQLValue] = []

    init(statement: OpaquePointer) { self.statement = statement }

    init(collecting capacity: Int) {
        statement = nil
        collected.reserveCapacity(capacity)
    }

    /// One row's values as `SQLValue`s (a single-row statement, a bulk copy), bound by `row`.
    static func collect(_ width: Int, _ row: (inout SQLRowValues) throws -> Void) rethrows -> [SQLValue] {
        var values = SQLRowValues(collecting: width)
        try row(&values)
        return values.collected
    }

    /// SQLite copies what it is given (`SQLITE_TRANSIENT`): the caller's buffers may go.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    /// An empty text's bytes: SQLite binds a nil pointer as NULL, not as ''.
    private static let empty: StaticString = ""

    private mutating func bound(_ rc: Int32) {
        if rc != SQLITE_OK, failure == SQLITE_OK { failure = rc }
        parameter += 1
    }

    public mutating func null() {
        guard let statement else { return collected.append(.null) }
        bound(sqlite3_bind_null(statement, parameter))
    }

    public mutating func integer(_ v: Int64) {
        guard let statement else { return collected.append(.integer(v)) }
        bound(sqlite3_bind_int64(statement, parameter, v))
    }

    public mutating func text(_ v: String) {
        guard let statement else { return collected.append(.text(v)) }
        var v = v
        let rc = v.withUTF8 { utf8 in
            guard let base = utf8.baseAddress, !utf8.isEmpty else {
                return Self.empty.withUTF8Buffer {
                    sqlite3_bind_text(statement, parameter, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), 0, Self.transient)
                }
            }
            return sqlite3_bind_text(statement, parameter, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(utf8.count), Self.transient)
        }
        bound(rc)
    }

    /// A text, or NULL.
    public mutating func text(_ v: String?) {
        if let v { text(v) } else { null() }
    }

    /// An id's 16 bytes, big-endian (`UUID128.bytes`), without building them as an array.
    public mutating func blob(_ id: UUID128) {
        guard let statement else { return collected.append(.blob(id.bytes)) }
        var bigEndian = (id.high.bigEndian, id.low.bigEndian)
        let rc = withUnsafeBytes(of: &bigEndian) { sqlite3_bind_blob(statement, parameter, $0.baseAddress, 16, Self.transient) }
        bound(rc)
    }

    public mutating func blob(_ bytes: [UInt8]) {
        guard let statement else { return collected.append(.blob(bytes)) }
        // An empty blob is still a blob (a nil pointer would bind NULL).
        let rc = bytes.withUnsafeBytes { b in
            b.isEmpty ? sqlite3_bind_zeroblob(statement, parameter, 0) : sqlite3_bind_blob(statement, parameter, b.baseAddress, Int32(b.count), Self.transient)
        }
        bound(rc)
    }

    /// A blob, or NULL.
    public mutating func blob(_ bytes: [UInt8]?) {
        if let bytes { blob(bytes) } else { null() }
    }

    /// Any value.
    public mutating func value(_ v: SQLValue) {
        switch v {
        case .null: null()
        case let .integer(n): integer(n)
        case let .real(d):
            guard let statement else { return collected.append(.real(d)) }
            bound(sqlite3_bind_double(statement, parameter, d))
        case let .text(t): text(t)
        case let .blob(b): blob(b)
        }
    }
}

/// The rows a multi-row INSERT writes at most in one statement: within both engines' limits on
/// bound values (SQLite 32,766; PostgreSQL 65,535) at the widest table's 11 columns.
let rowsPerInsert = 300

/// The text of a multi-row INSERT of `rows` rows of `width` values: `head`, the rows' marks, `tail`.
func multiRowInsert(_ head: String, width: Int, rows: Int, tail: String) -> String {
    let marks = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
    return head + Array(repeating: marks, count: rows).joined(separator: ", ") + tail
}

extension SQLConnection {
    /// On engines without their own: each statement's values collected, then `send`.
    public func insert(_ head: String, width: Int, count: Int, then tail: String, _ row: (Int, inout SQLRowValues) throws -> Void) throws {
        var start = 0
        while start < count {
            let n = min(rowsPerInsert, count - start)
            var values = SQLRowValues(collecting: n * width)
            for i in start..<(start + n) { try row(i, &values) }
            guard values.collected.count == n * width else { throw StoreError(code: -25, message: "a row of \(head) has the wrong number of values") }
            try send(multiRowInsert(head, width: width, rows: n, tail: tail), values.collected)
            start += n
        }
    }
}

extension Database {
    /// `SQLConnection.insert` on SQLite: each statement prepared once per size and kept, its
    /// parameters bound as the rows give them.
    public func insert(_ head: String, width: Int, count: Int, then tail: String, _ row: (Int, inout SQLRowValues) throws -> Void) throws {
        var start = 0
        while start < count {
            let n = min(rowsPerInsert, count - start)
            let s = try multiRowStatement(MultiRowKey(head: head, tail: tail, width: width, rows: n))
            defer {
                sqlite3_reset(s)
                sqlite3_clear_bindings(s)
            }
            var values = SQLRowValues(statement: s)
            for i in start..<(start + n) { try row(i, &values) }
            guard values.parameter == Int32(n * width + 1) else { throw StoreError(code: -25, message: "a row of \(head) has the wrong number of values") }
            if values.failure != SQLITE_OK { throw failure(values.failure, "bind") }
            try step(s)
            start += n
        }
    }
}

/// A multi-row INSERT's statement as `Database` keeps it: by its parts, not its text (hashing
/// the text of 300 rows' marks on every call would cost more than building it once).
struct MultiRowKey: Hashable {
    let head: String
    let tail: String
    let width: Int
    let rows: Int
}
