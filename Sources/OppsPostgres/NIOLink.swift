import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import OppsStore
import PostgresNIO

/// Statements through postgres-nio, for connections that ask for TLS (`sslmode=prefer|require`):
/// its event loop runs the socket, and the engine's thread waits on a semaphore for each answer.
/// Statements issued together are handed to the event loop in one task (`flush`), not a hop each;
/// postgres-nio still sends each only once the one before it has answered.
final class NIOLink: PostgresLink {
    private let connection: PostgresConnection
    private let logger: Logger
    /// Prepared on this connection, by value kinds + statement text.
    private var statements: [String: PreparedQuery] = [:]
    private static let preparedLimit = 256
    private static let group = MultiThreadedEventLoopGroup.singleton
    private static let ids = Counter()

    /// How long the engine's thread waits for an answer (`PostgresSQLConnection.answerLimit`).
    var answerLimit: Duration?

    init(location: PostgresLocation, answerLimit: Duration? = nil) throws {
        self.answerLimit = answerLimit
        var quiet = Logger(label: "opps.postgres")
        quiet.logLevel = .error
        logger = quiet
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
        let connecting = PostgresConnection.connect(on: Self.group.next(), configuration: configuration, id: Self.ids.next(), logger: logger)
        do {
            connection = try Self.wait(connecting, limit: answerLimit)
        } catch {
            // Given up on past the limit: a connection made later is closed, not left open.
            connecting.whenSuccess { late in late.close().whenComplete { _ in withExtendedLifetime(late) {} } }
            if error is Silence { throw PostgresClient.lost(PostgresClient.silence(answerLimit ?? .zero)) }
            throw PostgresSQLConnection.storeError(error, what: "connect to \(location)")
        }
    }

    /// Why the connection was given up on (an answer past the limit): closing, and not to be
    /// used again; every statement on it not yet answered fails with this.
    private var givenUp: StoreError?

    var isClosed: Bool { givenUp != nil || connection.isClosed }

    /// Gives the connection up after `limit` passed without an answer: closing it fails every
    /// statement on it, each through its own future, so nothing waits on them any more.
    private func abandon(_ limit: Duration) -> StoreError {
        let failure = PostgresClient.lost(PostgresClient.silence(limit))
        givenUp = failure
        // Kept until closed: postgres-nio requires a connection to be closed before it goes.
        let connection = connection
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
        return failure
    }

    func close() { _ = try? Self.wait(connection.close()) }

    /// A statement for the connection's event loop; its answer is kept here until taken.
    private final class Pending: @unchecked Sendable {
        let start: @Sendable () -> EventLoopFuture<(rows: [PostgresRow], changed: Int?)>
        var result: Result<(rows: [PostgresRow], changed: Int?), any Error>?
        let done = DispatchSemaphore(value: 0)
        var taken = false  // the engine's thread has seen `done` (it reads `result` only after)
        init(_ start: @escaping @Sendable () -> EventLoopFuture<(rows: [PostgresRow], changed: Int?)>) { self.start = start }
    }

    /// Issued and not yet handed to the event loop, in order.
    private var unsent: [Pending] = []
    /// Issued and not yet answered-and-taken, in order.
    private var outstanding: [Pending] = []

    func send() throws { flush() }

    /// Hands every unsent statement to the event loop in one task, in order.
    private func flush() {
        guard !unsent.isEmpty else { return }
        let batch = unsent
        unsent.removeAll()
        guard !isClosed else {
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

    private func take(_ p: Pending) throws -> (rows: [PostgresRow], changed: Int?) {
        if !p.taken {
            if let givenUp {
                outstanding.removeAll { $0 === p }
                throw givenUp
            }
            flush()
            if let limit = answerLimit, p.done.wait(timeout: .now() + Self.interval(limit)) == .timedOut {
                throw abandon(limit)
            } else if answerLimit == nil {
                p.done.wait()
            }
            p.taken = true
            outstanding.removeAll { $0 === p }
        }
        guard let result = p.result else { throw StoreError(code: StoreError.unavailable, message: "no answer from PostgreSQL") }
        return try result.get()
    }

    func answer(_ ticket: AnyObject) throws -> PostgresAnswer {
        let (rows, changed) = try take(unsafeDowncast(ticket, to: Pending.self))
        return PostgresAnswer(rows: Self.rows(rows), changed: changed)
    }

    /// The statement prepared on this connection for `sql` with values of these kinds, preparing
    /// it now if it is new (one round trip, once); nil when it is not to be prepared.
    private func prepared(_ sql: String, _ values: [SQLValue]) throws -> PreparedQuery? {
        let key = PostgresSQLConnection.key(sql, values)
        if let statement = statements[key] { return statement }
        guard statements.count < Self.preparedLimit else { return nil }
        // What was sent before is waited for first: in a transaction one of them failed, that
        // failure is the one to report, not PostgreSQL refusing to prepare in a failed transaction.
        for p in outstanding {
            do { _ = try take(p) } catch { throw Earlier(error: PostgresSQLConnection.storeError(error, what: "")) }
        }
        // Each mark cast to its value's type: PostgreSQL infers nothing (a null's is left to it).
        let preparing = connection.prepare(query: PostgresSQLConnection.numbering(sql, casts: values))
        let statement: PreparedQuery
        do {
            statement = try Self.wait(preparing, limit: answerLimit)
        } catch is Silence {
            throw abandon(answerLimit ?? .zero)
        }
        statements[key] = statement
        return statement
    }

    func issue(_ sql: String, numbered: String, _ values: [SQLValue], prepare: Bool) throws -> AnyObject {
        guard !isClosed else { throw StoreError(code: StoreError.unavailable, message: "the connection to PostgreSQL was lost") }
        let p: Pending
        if prepare, let statement = try prepared(sql, values) {
            let data = values.map(Self.data)
            p = Pending { statement.execute(data).map { ($0, nil) } }
        } else {
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
            let query = PostgresQuery(unsafeSQL: numbered, binds: binds)
            let (connection, logger) = (self.connection, self.logger)
            p = Pending { connection.query(query, logger: logger).map { ($0.rows, $0.metadata.rows) } }
        }
        unsent.append(p)
        outstanding.append(p)
        return p
    }

    func copy(into table: String, columns: [String], text: [UInt8]) throws {
        let (connection, logger) = (self.connection, self.logger)
        let buffer = ByteBuffer(bytes: text)
        let p = Pending {
            // postgres-nio's copy is async only: run on the connection's event loop, not the shared
            // pool, whose few threads may all be blocked waiting, as this one is, for an answer.
            let promise = connection.eventLoop.makePromise(of: (rows: [PostgresRow], changed: Int?).self)
            Task(executorPreference: LoopExecutor(loop: connection.eventLoop)) {
                do {
                    try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in try await writer.write(buffer) }
                    promise.succeed(([], nil))
                } catch {
                    promise.fail(error)
                }
            }
            return promise.futureResult
        }
        unsent.append(p)
        outstanding.append(p)
        _ = try take(p)
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

    /// Rows in PostgreSQL's binary format (postgres-nio asks for it on every path).
    private static func rows(_ rows: [PostgresRow]) -> [[SQLValue]] {
        rows.map { row in
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

    /// Waits for `future` on this thread, which may be an event loop's own (the hub's engine
    /// runs on one): a semaphore, not `wait()`, which refuses any event loop thread.
    static func wait<T: Sendable>(_ future: EventLoopFuture<T>, limit: Duration? = nil) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let box = Box<T>()
        future.whenComplete { result in
            box.result = result
            done.signal()
        }
        if let limit {
            guard done.wait(timeout: .now() + interval(limit)) == .success else { throw Silence() }
        } else {
            done.wait()
        }
        return try box.result!.get()
    }

    /// No answer within the limit `wait` was given.
    struct Silence: Error {}

    static func interval(_ limit: Duration) -> DispatchTimeInterval { .milliseconds(Int(clamping: PostgresClient.milliseconds(limit))) }
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
