import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import OppsStore
import PostgresNIO

/// Where a PostgreSQL database is: parsed from `postgres://user:password@host:port/database`
/// (`postgresql://` too), with `?sslmode=disable|prefer|require` (default: disable on loopback,
/// prefer elsewhere). The description never shows the password.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: String

    /// True when `text` names a PostgreSQL database rather than a directory.
    public static func isURL(_ text: String) -> Bool { text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") }

    public init(url text: String) throws {
        guard Self.isURL(text), let c = URLComponents(string: text), let host = c.host, !host.isEmpty else {
            throw StoreError(code: -20, message: "not a PostgreSQL URL (postgres://user:password@host:port/database)")
        }
        self.host = host
        port = c.port ?? 5432
        user = c.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        password = c.password.flatMap { $0.removingPercentEncoding }
        let path = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        database = path.isEmpty ? user : path
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(host)
        sslMode = c.queryItems?.first { $0.name == "sslmode" }?.value ?? (loopback ? "disable" : "prefer")
        guard ["disable", "prefer", "require"].contains(sslMode) else {
            throw StoreError(code: -20, message: "sslmode must be disable, prefer or require")
        }
    }

    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// Creates a new empty database named `prefix` + a random suffix on the server `base`
    /// names (tests, the simulator, the benchmarks); returns its URL.
    public static func createDatabase(base: String, prefix: String) throws -> String {
        let admin = try PostgresSQLConnection(location: PostgresLocation(url: base))
        let name = prefix + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        try admin.run("CREATE DATABASE \(name)", [])
        guard var c = URLComponents(string: base) else { throw StoreError(code: -20, message: "not a URL") }
        c.path = "/" + name
        guard let url = c.string else { throw StoreError(code: -20, message: "not a URL") }
        return url
    }
}

/// One PostgreSQL connection used synchronously, like SQLite's: the hub's engine runs on its own
/// thread and each statement blocks it until PostgreSQL answers (postgres-nio runs the socket on
/// its own event loop). `?` marks are numbered `$1…` once per statement text. A connection lost
/// between transactions is opened again; one lost inside a transaction fails that transaction.
///
/// **Prepared statements.** A query or a `send` with at most 32 values is prepared on the
/// connection the first time it is seen with those kinds of values (each mark cast to its value's
/// type, so PostgreSQL infers nothing), then runs as Bind/Execute only: PostgreSQL neither parses
/// nor plans it again, and no row description is sent back. At most 256 are kept per connection;
/// past that, new texts run unnamed as before. `run` stays unnamed: only that path reports how
/// many rows a statement changed.
public final class PostgresSQLConnection: SQLConnection {
    public let location: PostgresLocation
    private var connection: PostgresConnection?
    private let logger: Logger
    private var numbered: [String: String] = [:]
    /// Prepared on this connection, by value kinds + statement text (`prepared(_:_:)`).
    private var statements: [String: PreparedQuery] = [:]
    private static let preparedLimit = 256
    /// Enough for a push's writes combined (`together`: 45 values for one write).
    private static let preparedValues = 64
    private var inTransaction = false
    private static let group = MultiThreadedEventLoopGroup.singleton
    private static let ids = Counter()

    public init(location: PostgresLocation, logger: Logger = Logger(label: "opps.postgres")) throws {
        self.location = location
        var quiet = logger
        quiet.logLevel = .error
        self.logger = quiet
        try connect()
    }

    deinit {
        if let connection { _ = try? Self.wait(connection.close()) }
    }

    private func connect() throws {
        let tls: PostgresConnection.Configuration.TLS
        switch location.sslMode {
        case "disable": tls = .disable
        default:
            let context = try NIOSSLContext(configuration: .makeClientConfiguration())
            tls = location.sslMode == "require" ? .require(context) : .prefer(context)
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password, database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        do {
            connection = try Self.wait(
                PostgresConnection.connect(on: Self.group.next(), configuration: configuration, id: Self.ids.next(), logger: logger))
            statements.removeAll()
        } catch {
            throw Self.storeError(error, what: "connect to \(location)")
        }
        // A hub that stops answering mid-transaction must not hold the sequencer's lock for
        // long (the server's idle_in_transaction_session_timeout is the operator's; this is ours).
        _ = try run("SET idle_in_transaction_session_timeout = '30s'", [])
        _ = try run("SET lock_timeout = '20s'", [])
    }

    private func live() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        guard !inTransaction else { throw StoreError(code: StoreError.unavailable, message: "the connection to PostgreSQL was lost mid-transaction") }
        try connect()
        guard let connection else { throw StoreError(code: StoreError.unavailable, message: "no connection to PostgreSQL") }
        return connection
    }

    /// `?` → `$n`, outside quoted text.
    private func numbering(_ sql: String) -> String {
        if let done = numbered[sql] { return done }
        let out = Self.numbering(sql, casts: nil)
        numbered[sql] = out
        return out
    }

    /// `?` → `$n`, outside quoted text; with `casts`, `$n::type` for a statement prepared with
    /// these values (a null's mark is left to PostgreSQL to infer: a null's bytes are the same
    /// whatever its type).
    private static func numbering(_ sql: String, casts values: [SQLValue]?) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16 * (values?.count ?? 1))
        var n = 0
        var quote: Character?
        for ch in sql {
            if let q = quote {
                if ch == q { quote = nil }
                out.append(ch)
            } else if ch == "'" || ch == "\"" {
                quote = ch
                out.append(ch)
            } else if ch == "?" {
                out += "$\(n + 1)"
                if let values, n < values.count {
                    switch values[n] {
                    case .null: break
                    case .integer: out += "::int8"
                    case .real: out += "::float8"
                    case .text: out += "::text"
                    case .blob: out += "::bytea"
                    }
                }
                n += 1
            } else {
                out.append(ch)
            }
        }
        return out
    }

    /// The statement prepared on this connection for `sql` with values of these kinds, preparing
    /// it now if it is new (one round trip, once); nil when it is not to be prepared.
    private func prepared(_ sql: String, _ values: [SQLValue]) throws -> PreparedQuery? {
        guard values.count <= Self.preparedValues else { return nil }
        var key = ""
        key.reserveCapacity(values.count + 1 + sql.utf8.count)
        for v in values {
            switch v {
            case .null: key.append("n")
            case .integer: key.append("i")
            case .real: key.append("r")
            case .text: key.append("t")
            case .blob: key.append("b")
            }
        }
        key.append("|")
        key += sql
        if let statement = statements[key] { return statement }
        guard statements.count < Self.preparedLimit, Self.preparable(sql) else { return nil }
        // What was sent before is waited for first: in a transaction one of them failed, that
        // failure is the one to report, not PostgreSQL refusing to prepare in a failed transaction.
        if !inflight.isEmpty {
            do { try drain() } catch { throw Earlier(error: Self.storeError(error, what: "")) }
        }
        flush()  // statements queued before it go out before it
        let statement = try Self.wait(live().prepare(query: Self.numbering(sql, casts: values)))
        statements[key] = statement
        return statement
    }

    /// Statements that read or write rows; transaction control is cheap to parse and stays unnamed.
    private static func preparable(_ sql: String) -> Bool {
        let first = sql.prefix { !$0.isWhitespace }.uppercased()
        return first == "SELECT" || first == "INSERT" || first == "UPDATE" || first == "DELETE" || first == "WITH"
    }

    private static func data(_ value: SQLValue) -> PostgresData {
        switch value {
        case .null: return .null
        case let .integer(i): return PostgresData(int64: i)
        case let .real(d): return PostgresData(double: d)
        case let .text(t): return PostgresData(string: t)
        case let .blob(b): return PostgresData(bytes: b)
        }
    }

    /// What a statement answered: its rows (always in PostgreSQL's binary format: postgres-nio
    /// asks for it on every path) and, for an unnamed one, how many rows it changed.
    private struct Answer: Sendable {
        var rows: [PostgresRow]
        var changed: Int?
    }

    /// A statement for the connection's event loop. Statements are handed over together when
    /// one must be waited for (`flush`): one task on that thread for all of them, not a hop per
    /// statement to send it and another to hear its answer; the answer is kept here until taken.
    private final class Pending: @unchecked Sendable {
        let start: @Sendable () -> EventLoopFuture<Answer>
        var result: Result<Answer, any Error>?
        let done = DispatchSemaphore(value: 0)
        var taken = false  // the engine's thread has seen `done` (it reads `result` only after)
        init(_ start: @escaping @Sendable () -> EventLoopFuture<Answer>) { self.start = start }
    }

    /// Statements issued and not yet handed to the event loop, in order.
    private var unsent: [Pending] = []

    /// Statements sent inside a transaction and not waited for yet (`send`), in order.
    private var inflight: [(sql: String, answer: Pending)] = []

    /// Hands every unsent statement to the event loop in one task, in order.
    private func flush() {
        guard !unsent.isEmpty else { return }
        let batch = unsent
        unsent.removeAll()
        guard let connection, !connection.isClosed else {
            // Never hand statements to a closed channel: their answers would never come.
            for p in batch {
                p.result = .failure(StoreError(code: StoreError.unavailable, message: "the connection to PostgreSQL was lost"))
                p.done.signal()
            }
            return
        }
        connection.eventLoop.execute {
            for p in batch {
                p.start().whenComplete { result in
                    p.result = result
                    p.done.signal()
                }
            }
        }
    }

    /// The answer to `p`, waiting for it if it has not come yet.
    private func wait(_ p: Pending) throws -> Answer {
        if !p.taken {
            flush()
            p.done.wait()
            p.taken = true
        }
        guard let result = p.result else { throw StoreError(code: StoreError.unavailable, message: "no answer from PostgreSQL") }
        return try result.get()
    }

    /// Queues a statement; `counting`: the answer must say how many rows it changed (unnamed).
    private func issue(_ sql: String, _ values: [SQLValue], counting: Bool = false) throws -> Pending {
        try releaseHeld()
        // A statement prepared on a connection since lost is prepared again on the next one.
        let connection = try live()
        if !counting, let statement = try prepared(sql, values) {
            let data = values.map(Self.data)
            let p = Pending { statement.execute(data).map { Answer(rows: $0, changed: nil) } }
            unsent.append(p)
            return p
        }
        var binds = PostgresBindings(capacity: values.count)
        for v in values {
            switch v {
            case .null: binds.appendNull()
            case let .integer(i): binds.append(i)
            case let .real(d): binds.append(d)
            case let .text(t): binds.append(t)
            case let .blob(b): binds.append(ByteBuffer(bytes: b))
            }
        }
        let query = PostgresQuery(unsafeSQL: numbering(sql), binds: binds)
        let logger = self.logger
        let p = Pending { connection.query(query, logger: logger).map { Answer(rows: $0.rows, changed: $0.metadata.rows) } }
        unsent.append(p)
        return p
    }

    /// Waits for what was sent before; the first failure is thrown (a later one is PostgreSQL
    /// refusing statements of a transaction already failed). `ignoring`: for a rollback, which
    /// undoes them anyway.
    private func drain(ignoring: Bool = false) throws {
        let waiting = inflight
        inflight.removeAll()
        // The last answers after all the others: one wait for the lot.
        if let last = waiting.last { _ = try? wait(last.answer) }
        var first: StoreError?
        for (sql, answer) in waiting {
            do { _ = try wait(answer) } catch { if first == nil { first = Self.storeError(error, what: sql) } }
        }
        if let first, !ignoring { throw first }
    }

    /// `COPY table (columns) FROM STDIN` in the text format, after every statement sent before
    /// (they are waited for first: a copy cannot share their round trip).
    public var copies: Bool { true }

    public func copy(into table: String, columns: [String], rows: [[SQLValue]]) throws {
        guard !rows.isEmpty else { return }
        try releaseHeld()
        try drain()
        let connection = try live()
        let text = Self.copyText(rows)
        let logger = self.logger
        let p = Pending {
            // postgres-nio's copy is async only: run on the connection's event loop, not the shared
            // pool, whose few threads may all be blocked waiting, as this one is, for an answer.
            let promise = connection.eventLoop.makePromise(of: Answer.self)
            Task(executorPreference: LoopExecutor(loop: connection.eventLoop)) {
                do {
                    try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in try await writer.write(text) }
                    promise.succeed(Answer(rows: [], changed: rows.count))
                } catch {
                    promise.fail(error)
                }
            }
            return promise.futureResult
        }
        unsent.append(p)
        do { _ = try wait(p) } catch { throw Self.storeError(error, what: "COPY \(table)") }
    }

    /// Rows in COPY's text format: tab-separated, `\N` for null, bytea as `\\x` + hex, and a
    /// backslash, tab, newline or carriage return in text escaped.
    static func copyText(_ rows: [[SQLValue]]) -> ByteBuffer {
        let hex = Array("0123456789abcdef".utf8)
        var out = ByteBuffer()
        out.reserveCapacity(rows.count * 64)
        for row in rows {
            for (i, value) in row.enumerated() {
                if i > 0 { out.writeInteger(UInt8(ascii: "\t")) }
                switch value {
                case .null: out.writeStaticString("\\N")
                case let .integer(n): out.writeString(String(n))
                case let .real(d): out.writeString(d.isFinite ? "\(d)" : d.isNaN ? "NaN" : d > 0 ? "Infinity" : "-Infinity")
                case let .text(t):
                    for byte in t.utf8 {
                        switch byte {
                        case UInt8(ascii: "\\"): out.writeStaticString("\\\\")
                        case UInt8(ascii: "\t"): out.writeStaticString("\\t")
                        case UInt8(ascii: "\n"): out.writeStaticString("\\n")
                        case UInt8(ascii: "\r"): out.writeStaticString("\\r")
                        default: out.writeInteger(byte)
                        }
                    }
                case let .blob(b):
                    out.writeStaticString("\\\\x")
                    for byte in b {
                        out.writeInteger(hex[Int(byte >> 4)])
                        out.writeInteger(hex[Int(byte & 15)])
                    }
                }
            }
            out.writeInteger(UInt8(ascii: "\n"))
        }
        return out
    }

    /// Sends this statement behind those in flight (one round trip for all of them), then
    /// waits for all.
    private func execute(_ sql: String, _ values: [SQLValue], rollback: Bool = false, counting: Bool = false) throws -> Answer {
        let answer: Pending
        do {
            answer = try issue(sql, values, counting: counting)
        } catch {
            try? drain(ignoring: true)
            throw Self.storeError(error, what: sql)
        }
        // This one answers last: once it has, so have those in flight before it.
        _ = try? wait(answer)
        try drain(ignoring: rollback)
        do {
            return try wait(answer)
        } catch {
            throw Self.storeError(error, what: sql)
        }
    }

    public func rollback(_ sql: String) throws {
        _ = try execute(sql, [], rollback: true)
    }

    /// Inside a transaction, sends without waiting (pipelined); outside, runs it.
    public func send(_ sql: String, _ values: [SQLValue]) throws {
        guard inTransaction else { return _ = try execute(sql, values) }
        if held != nil, combinableTarget(sql) != nil {
            held?.append((sql, values))
            return
        }
        do {
            inflight.append((sql, try issue(sql, values)))
        } catch {
            try? drain(ignoring: true)
            throw Self.storeError(error, what: sql)
        }
    }

    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue]) throws -> Int {
        try execute(sql, values, counting: true).changed ?? 0
    }

    public func query(_ sql: String, _ values: [SQLValue]) throws -> [[SQLValue]] {
        Self.rows(try execute(sql, values))
    }

    /// Inside a transaction: all sent, then all waited for (one round trip).
    public func queries(_ statements: [(sql: String, values: [SQLValue])]) throws -> [[[SQLValue]]] {
        guard inTransaction, statements.count > 1 else { return try statements.map { try query($0.sql, $0.values) } }
        var answers = [(sql: String, answer: Pending)]()
        var failure: StoreError?
        for s in statements {
            do {
                answers.append((s.sql, try issue(s.sql, s.values)))
            } catch let e as Earlier {
                // A statement sent before these failed: nothing of these can have run.
                for (_, answer) in answers { _ = try? wait(answer) }
                throw e.error
            } catch {
                failure = Self.storeError(error, what: s.sql)
                break
            }
        }
        // What was sent before these, then these, in order: the first failure is the one to report
        // (a later one is PostgreSQL refusing statements of a transaction already failed).
        if let last = answers.last { _ = try? wait(last.answer) }
        var earlier: StoreError?
        do { try drain() } catch { earlier = Self.storeError(error, what: "") }
        var out = [[[SQLValue]]]()
        var first: StoreError?
        for (sql, answer) in answers {
            do { out.append(Self.rows(try wait(answer))) } catch { if first == nil { first = Self.storeError(error, what: sql) } }
        }
        if let error = earlier ?? first ?? failure { throw error }
        return out
    }

    private static func rows(_ answer: Answer) -> [[SQLValue]] {
        answer.rows.map { row in
            // Binary format, whatever the row description of a prepared statement says.
            row.map { cell -> SQLValue in
                guard var bytes = cell.bytes else { return .null }
                switch cell.dataType {
                case .int8: return bytes.readInteger(as: Int64.self).map(SQLValue.integer) ?? .null
                case .int4: return bytes.readInteger(as: Int32.self).map { .integer(Int64($0)) } ?? .null
                case .int2: return bytes.readInteger(as: Int16.self).map { .integer(Int64($0)) } ?? .null
                case .bool: return .integer(bytes.readInteger(as: UInt8.self) == 1 ? 1 : 0)
                case .float8: return bytes.readInteger(as: UInt64.self).map { .real(Double(bitPattern: $0)) } ?? .null
                case .float4: return bytes.readInteger(as: UInt32.self).map { .real(Double(Float(bitPattern: $0))) } ?? .null
                case .bytea: return .blob(bytes.readBytes(length: bytes.readableBytes) ?? [])
                default: return .text(bytes.readString(length: bytes.readableBytes) ?? "")
                }
            }
        }
    }

    // MARK: Writes together

    /// Sends held back by `together` (nil: not inside it).
    private var held: [(sql: String, values: [SQLValue])]?

    /// Sends what `together` holds, before any other statement: statements reach PostgreSQL in
    /// the order given.
    private func releaseHeld() throws {
        guard let waiting = held, !waiting.isEmpty else { return }
        held = []
        try sendCombined(waiting)
    }

    /// Inside a transaction: the writes `body` sends (`send`) that read nothing — a plain
    /// INSERT … VALUES (with or without ON CONFLICT), DELETE or UPDATE without a subquery — go
    /// to PostgreSQL as one statement where they write different tables:
    /// `WITH w0 AS (first), w1 AS (second) last`. One round trip instead of one each: postgres-nio
    /// sends a statement only once the one before it has answered, and each answer wakes the
    /// server's process and the connection's thread. All parts of such a statement run on one
    /// snapshot and none sees another's rows; that is why only writes that read nothing, of
    /// different tables, are combined (a second write to a table starts the next statement).
    /// Any other statement, and the end of `body`, send what is held first, in order. A failure
    /// of any part fails the whole statement, as it would have failed the transaction.
    public func together<T>(_ body: () throws -> T) throws -> T {
        guard inTransaction, held == nil else { return try body() }
        held = []
        do {
            let result = try body()
            let waiting = held ?? []
            held = nil
            if !waiting.isEmpty { try sendCombined(waiting) }
            return result
        } catch {
            held = nil
            throw error
        }
    }

    /// `target(ofCombinable:)` once per statement text (the texts are few; the scan is not free:
    /// 4 % of the hub's CPU when done at every send).
    private var targets: [String: String?] = [:]
    private func combinableTarget(_ sql: String) -> String? {
        if let known = targets[sql] { return known }
        let t = Self.target(ofCombinable: sql)
        if targets.count < 4096 { targets[sql] = t }
        return t
    }

    /// The table a statement writes, if it may be combined: one that writes one table and reads
    /// none (no SELECT, no WITH, nothing returned).
    public static func target(ofCombinable sql: String) -> String? {
        let upper = sql.uppercased()
        guard !upper.contains("SELECT"), !upper.contains("RETURNING"), !upper.contains("WITH ") else { return nil }
        let words = upper.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "(" }).prefix(3).map(String.init)
        switch words.first {
        case "INSERT" where words.count == 3 && words[1] == "INTO": return words[2]
        case "DELETE" where words.count == 3 && words[1] == "FROM": return words[2]
        case "UPDATE" where words.count >= 2: return words[1]
        default: return nil
        }
    }

    /// `statements` (all combinable) as few statements as their tables allow, sent in order.
    private func sendCombined(_ statements: [(sql: String, values: [SQLValue])]) throws {
        var part: [(sql: String, values: [SQLValue])] = []
        var tables = Set<String>()
        func emit() throws {
            guard let last = part.last else { return }
            let sql =
                part.count == 1
                ? last.sql : "WITH " + part.dropLast().enumerated().map { "w\($0.offset) AS (\($0.element.sql))" }.joined(separator: ", ") + " " + last.sql
            let values = part.count == 1 ? last.values : part.flatMap(\.values)
            part.removeAll()
            tables.removeAll()
            do {
                inflight.append((sql, try issue(sql, values)))
            } catch {
                try? drain(ignoring: true)
                throw Self.storeError(error, what: sql)
            }
        }
        for statement in statements {
            let table = combinableTarget(statement.sql) ?? ""
            if tables.contains(table) { try emit() }
            part.append(statement)
            tables.insert(table)
        }
        try emit()
    }

    /// Runs `body` between `begin` and COMMIT; ROLLBACK when it throws.
    public func transaction<T>(begin: [String], _ body: () throws -> T) throws -> T {
        // Opened lazily (a lost connection is opened again only between transactions), then
        // the transaction's first statements go out with its first real one.
        _ = try live()
        inTransaction = true
        defer {
            inTransaction = false
            try? drain(ignoring: true)
        }
        for statement in begin { try send(statement, []) }
        do {
            let result = try body()
            try run("COMMIT", [])
            return result
        } catch {
            if let connection, !connection.isClosed { try? rollback("ROLLBACK") }
            throw error
        }
    }

    public func atomically<T>(_ body: () throws -> T) throws -> T { try transaction(begin: ["BEGIN"], body) }

    /// Waits for `future` on this thread, which may be an event loop's own (the hub's engine
    /// runs on one): a semaphore, not `wait()`, which refuses any event loop thread.
    static func wait<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let box = Box<T>()
        future.whenComplete { result in
            box.result = result
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }

    /// PostgreSQL's failures as the store's: a serialization failure, a deadlock, a lock wait
    /// that timed out and a lost connection are `StoreError.unavailable` (retry later); the
    /// rest keep SQLSTATE and message. The statement's text is never part of it.
    static func storeError(_ error: any Error, what: String) -> StoreError {
        if let e = error as? StoreError { return e }
        if let e = error as? Earlier { return e.error }
        let state: String, message: String, why: String
        if let p = error as? PSQLError {
            state = p.serverInfo?[.sqlState] ?? ""
            message = p.serverInfo?[.message] ?? "\(p.code)"
            why = p.underlying.map { "\($0)" } ?? "\(p.code)"
        } else if let p = error as? PostgresError {
            // What a prepared statement's failure arrives as (postgres-nio's older error type).
            switch p {
            case let .server(e):
                state = e.fields[.sqlState] ?? ""
                message = e.fields[.message] ?? "\(e)"
            case .connectionClosed, .protocol:
                state = ""
                message = "\(p)"
            }
            why = message
        } else {
            return StoreError(code: StoreError.unavailable, message: "PostgreSQL: \(error)")
        }
        switch state {
        case "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "08000", "08003", "08006":
            return StoreError(code: StoreError.unavailable, message: "PostgreSQL \(state): \(message)")
        case "":
            return StoreError(code: StoreError.unavailable, message: "PostgreSQL unreachable: \(why)")
        case "23505":
            return StoreError(code: StoreError.constraint, message: "PostgreSQL \(state): \(message)")
        default:
            return StoreError(code: -21, message: "PostgreSQL \(state): \(message)")
        }
    }
}

/// The failure of a statement sent before the one being prepared (reported as that one's).
private struct Earlier: Error {
    let error: StoreError
}

private final class Box<T: Sendable>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

/// Runs a task's jobs on one event loop (a task executor NIO of this version does not provide).
private final class LoopExecutor: TaskExecutor, @unchecked Sendable {
    let loop: any EventLoop
    init(loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
