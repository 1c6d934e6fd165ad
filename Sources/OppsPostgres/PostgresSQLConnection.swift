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
public final class PostgresSQLConnection: SQLConnection {
    public let location: PostgresLocation
    private var connection: PostgresConnection?
    private let logger: Logger
    private var numbered: [String: String] = [:]
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
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
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
                n += 1
                out += "$\(n)"
            } else {
                out.append(ch)
            }
        }
        numbered[sql] = out
        return out
    }

    /// Statements sent inside a transaction and not waited for yet (`send`), in order.
    private var inflight: [(sql: String, answer: EventLoopFuture<PostgresQueryResult>)] = []

    private func issue(_ sql: String, _ values: [SQLValue]) throws -> EventLoopFuture<PostgresQueryResult> {
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
        return try live().query(PostgresQuery(unsafeSQL: numbering(sql), binds: binds), logger: logger)
    }

    /// Waits for what was sent before; the first failure is thrown (a later one is PostgreSQL
    /// refusing statements of a transaction already failed). `ignoring`: for a rollback, which
    /// undoes them anyway.
    private func drain(ignoring: Bool = false) throws {
        let waiting = inflight
        inflight.removeAll()
        var first: StoreError?
        for (sql, answer) in waiting {
            do { _ = try Self.wait(answer) } catch { if first == nil { first = Self.storeError(error, what: sql) } }
        }
        if let first, !ignoring { throw first }
    }

    /// Sends this statement behind those in flight (one round trip for all of them), then
    /// waits for all.
    private func execute(_ sql: String, _ values: [SQLValue], rollback: Bool = false) throws -> PostgresQueryResult {
        let answer: EventLoopFuture<PostgresQueryResult>
        do {
            answer = try issue(sql, values)
        } catch {
            try? drain(ignoring: true)
            throw Self.storeError(error, what: sql)
        }
        do {
            try drain(ignoring: rollback)
        } catch {
            _ = try? Self.wait(answer)
            throw error
        }
        do {
            return try Self.wait(answer)
        } catch {
            throw Self.storeError(error, what: sql)
        }
    }

    public func rollback(_ sql: String) throws {
        _ = try execute(sql, [], rollback: true)
    }

    /// Inside a transaction, sends without waiting (pipelined); outside, runs it.
    public func send(_ sql: String, _ values: [SQLValue]) throws {
        guard inTransaction else { return _ = try run(sql, values) }
        do {
            inflight.append((sql, try issue(sql, values)))
        } catch {
            try? drain(ignoring: true)
            throw Self.storeError(error, what: sql)
        }
    }

    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue]) throws -> Int {
        try execute(sql, values).metadata.rows ?? 0
    }

    public func query(_ sql: String, _ values: [SQLValue]) throws -> [[SQLValue]] {
        try execute(sql, values).rows.map { row in
            row.map { cell -> SQLValue in
                guard var bytes = cell.bytes else { return .null }
                switch cell.dataType {
                case .int2, .int4, .int8: return (try? cell.decode(Int64.self)).map(SQLValue.integer) ?? .null
                case .bool: return .integer(bytes.readInteger(as: UInt8.self) == 1 ? 1 : 0)
                case .float4, .float8: return (try? cell.decode(Double.self)).map(SQLValue.real) ?? .null
                case .bytea: return .blob(bytes.readBytes(length: bytes.readableBytes) ?? [])
                default: return .text(bytes.readString(length: bytes.readableBytes) ?? "")
                }
            }
        }
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
        guard let p = error as? PSQLError else { return StoreError(code: StoreError.unavailable, message: "PostgreSQL: \(error)") }
        let state = p.serverInfo?[.sqlState] ?? ""
        let message = p.serverInfo?[.message] ?? "\(p.code)"
        switch state {
        case "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "08000", "08003", "08006":
            return StoreError(code: StoreError.unavailable, message: "PostgreSQL \(state): \(message)")
        case "":
            let why = p.underlying.map { "\($0)" } ?? "\(p.code)"
            return StoreError(code: StoreError.unavailable, message: "PostgreSQL unreachable: \(why)")
        case "23505":
            return StoreError(code: StoreError.constraint, message: "PostgreSQL \(state): \(message)")
        default:
            return StoreError(code: -21, message: "PostgreSQL \(state): \(message)")
        }
    }
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
