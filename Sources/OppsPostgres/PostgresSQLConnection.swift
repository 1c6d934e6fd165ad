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

    /// The names of the databases on the server `base` names that start with `prefix`.
    public static func databases(base: String, prefix: String) throws -> [String] {
        let admin = try PostgresSQLConnection(location: PostgresLocation(url: base))
        let rows = try admin.query("SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname", [.text(prefix)])
        return rows.compactMap { if case .text(let t) = $0.first { t } else { nil } }
    }

    /// Drops the database `url` names (one `createDatabase` made), through the server `base`
    /// names, ending any session still on it.
    public static func dropDatabase(_ url: String, base: String) throws {
        let name = try PostgresLocation(url: url).database
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw StoreError(code: -20, message: "not a database createDatabase makes")
        }
        let admin = try PostgresSQLConnection(location: PostgresLocation(url: base))
        try admin.run("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", [])
    }
}

/// What a statement answered: its rows and how many rows it changed (when the link knows).
struct PostgresAnswer {
    var rows: [[SQLValue]]
    var changed: Int?
}

/// How statements reach PostgreSQL and their answers come back, in the order issued. Two: the
/// hub's own client of PostgreSQL's protocol on plain TCP (`PostgresClient`: the engine's thread writes and reads the
/// socket itself, statements truly pipelined), and postgres-nio where TLS is asked for.
protocol PostgresLink: AnyObject {
    var isClosed: Bool { get }
    /// How long the link waits for PostgreSQL to take or answer anything (nil: as long as it
    /// takes). Past it the link closes, and the statement fails as unavailable.
    var answerLimit: Duration? { get set }
    /// Queues a statement (sent no later than the next `answer`): `numbered` is `sql` with its
    /// marks numbered. `prepare`: it may be named on the connection and run by name from then on.
    func issue(_ sql: String, numbered: String, _ values: [SQLValue], prepare: Bool) throws -> AnyObject
    /// Sends what is queued now, without waiting for any answer.
    func send() throws
    /// The statement's answer, waiting for it.
    func answer(_ ticket: AnyObject) throws -> PostgresAnswer
    /// `COPY table (columns) FROM STDIN` with `text` (COPY's text format), after everything issued.
    func copy(into table: String, columns: [String], text: [UInt8]) throws
    func close()
}

extension PostgresClient: PostgresLink {
    func issue(_ sql: String, numbered: String, _ values: [SQLValue], prepare: Bool) throws -> AnyObject {
        try issue(numbered, values, key: prepare ? PostgresSQLConnection.key(sql, values) : nil)
    }

    func send() throws { try flush() }

    func answer(_ ticket: AnyObject) throws -> PostgresAnswer {
        let (rows, changed) = try answer(unsafeDowncast(ticket, to: Ticket.self))
        return PostgresAnswer(rows: rows, changed: changed)
    }

    func copy(into table: String, columns: [String], text: [UInt8]) throws {
        _ = try copyRows(into: table, columns: columns, text: text)
    }
}

/// One PostgreSQL connection used synchronously, like SQLite's: the hub's engine runs on its own
/// thread and each statement blocks it until PostgreSQL answers. `?` marks are numbered `$1…`
/// once per statement text. A connection lost between transactions is opened again; one lost
/// inside a transaction fails that transaction.
///
/// **Plain or TLS.** With `sslmode=disable` (the default on loopback) statements go through the
/// hub's own client of PostgreSQL's protocol (`PostgresClient`), on this thread; with TLS asked
/// for, through postgres-nio (`NIOLink`), whose event loop runs the socket.
///
/// **Prepared statements.** A query or a `send` with at most 64 values is prepared on the
/// connection the first time it is seen with those kinds of values (each value sent with its
/// type, so PostgreSQL infers nothing), then runs as Bind/Execute only: PostgreSQL neither parses
/// nor plans it again. At most 256 are kept per connection; past that, new texts run unnamed.
/// `run` stays unnamed.
public final class PostgresSQLConnection: SQLConnection {
    public let location: PostgresLocation
    private var link: (any PostgresLink)?
    private var numbered: [String: String] = [:]
    /// Enough for a push's writes combined (`together`: 45 values for one write).
    static let preparedValues = 64
    private var inTransaction = false
    /// Run on every connection opened after the first, before anything else uses it, outside any
    /// transaction (a lost connection is opened again only between transactions).
    public var onReconnect: (() throws -> Void)?

    /// How long a statement waits for PostgreSQL to take what it sends and to answer (nil, the
    /// default: as long as it takes). A server that stalls but stays alive — frozen, its disk
    /// hung, its machine paused — keeps its connections open and acknowledges their packets, so
    /// neither TCP's limits nor its keepalives end the wait: past this limit the connection is
    /// closed, the statement fails as unavailable, and the next one opens a new connection (its
    /// opening bounded alike). A serving hub sets it (`HubConfiguration.storeAnswerLimit`); the
    /// operator's commands, whose statements may rightly run for minutes, leave it unset.
    public var answerLimit: Duration? {
        didSet { link?.answerLimit = answerLimit }
    }

    public init(location: PostgresLocation, answerLimit: Duration? = nil) throws {
        self.location = location
        self.answerLimit = answerLimit
        try connect()
    }

    deinit { link?.close() }

    private func connect() throws {
        link = nil
        link =
            location.sslMode == "disable" ? try PostgresClient(location: location, answerLimit: answerLimit) : try NIOLink(location: location, answerLimit: answerLimit)
        // A hub that stops answering mid-transaction must not hold the sequencer's lock for
        // long (the server's idle_in_transaction_session_timeout is the operator's; this is ours).
        _ = try run("SET idle_in_transaction_session_timeout = '30s'", [])
        _ = try run("SET lock_timeout = '20s'", [])
    }

    private func live() throws -> any PostgresLink {
        if let link, !link.isClosed { return link }
        guard !inTransaction else { throw StoreError(code: StoreError.unavailable, message: "the connection to PostgreSQL was lost mid-transaction") }
        try connect()
        guard let link else { throw StoreError(code: StoreError.unavailable, message: "no connection to PostgreSQL") }
        do {
            try onReconnect?()
        } catch {
            // Not usable until it has run: the next use opens a connection again.
            link.close()
            throw error
        }
        return link
    }

    /// `?` → `$n`, outside quoted text.
    private func numbering(_ sql: String) -> String {
        if let done = numbered[sql] { return done }
        let out = Self.numbering(sql)
        if numbered.count < 4096 { numbered[sql] = out }
        return out
    }

    /// `?` → `$n`, outside quoted text; with `casts`, `$n::type` for a statement prepared with
    /// these values (postgres-nio's link: a null's mark is left to PostgreSQL to infer; the hub's
    /// own client sends the types in Parse instead).
    static func numbering(_ sql: String, casts values: [SQLValue]? = nil) -> String {
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

    /// What names a prepared statement: its values' kinds and its text.
    static func key(_ sql: String, _ values: [SQLValue]) -> String {
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
        return key
    }

    /// Statements that read or write rows; transaction control is cheap to parse and stays unnamed.
    static func preparable(_ sql: String) -> Bool {
        let first = sql.prefix { !$0.isWhitespace }.uppercased()
        return first == "SELECT" || first == "INSERT" || first == "UPDATE" || first == "DELETE" || first == "WITH"
    }

    /// Statements sent inside a transaction and not waited for yet (`send`), in order.
    private var inflight: [(sql: String, ticket: AnyObject)] = []

    /// Prefetched queries (`prefetch`) not answered yet, in order.
    private var prefetched: [(sql: String, ticket: AnyObject)] = []

    /// Queues a statement; `counting`: the answer must say how many rows it changed (unnamed).
    private func issue(_ sql: String, _ values: [SQLValue], counting: Bool = false) throws -> AnyObject {
        try releaseHeld()
        // A prefetched query's rows are read before anything more is sent: PostgreSQL writing
        // rows nobody reads stops reading what is sent to it, and both sides would wait.
        try readPrefetched()
        // The protocol counts a statement's values in 16 bits: PostgreSQL takes at most 65,535.
        guard values.count <= Int(UInt16.max) else {
            throw StoreError(code: -21, message: "a statement with \(values.count) values; PostgreSQL takes at most 65,535")
        }
        let link = try live()
        let prepare = !counting && values.count <= Self.preparedValues && Self.preparable(sql)
        return try link.issue(sql, numbered: numbering(sql), values, prepare: prepare)
    }

    private func wait(_ ticket: AnyObject) throws -> PostgresAnswer {
        guard let link else { throw StoreError(code: StoreError.unavailable, message: "the connection to PostgreSQL was lost") }
        return try link.answer(ticket)
    }

    /// Waits for what was sent before; the first failure is thrown (a later one is PostgreSQL
    /// refusing statements of a transaction already failed). `ignoring`: for a rollback, which
    /// undoes them anyway.
    private func drain(ignoring: Bool = false) throws {
        let waiting = inflight
        inflight.removeAll()
        var first: StoreError?
        for (sql, ticket) in waiting {
            do { _ = try wait(ticket) } catch { if first == nil { first = Self.storeError(error, what: sql) } }
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
        do {
            try live().copy(into: table, columns: columns, text: Self.copyText(rows))
        } catch {
            throw Self.storeError(error, what: "COPY \(table)")
        }
    }

    /// Rows in COPY's text format: tab-separated, `\N` for null, bytea as `\\x` + hex, and a
    /// backslash, tab, newline or carriage return in text escaped.
    static func copyText(_ rows: [[SQLValue]]) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(rows.count * 128)
        for row in rows {
            for (i, value) in row.enumerated() {
                if i > 0 { out.append(UInt8(ascii: "\t")) }
                switch value {
                case .null: out.append(contentsOf: "\\N".utf8)
                case let .integer(n): out.append(contentsOf: String(n).utf8)  // a small string: no allocation
                case let .real(d): out.append(contentsOf: (d.isFinite ? "\(d)" : d.isNaN ? "NaN" : d > 0 ? "Infinity" : "-Infinity").utf8)
                case let .text(t):
                    for byte in t.utf8 {
                        switch byte {
                        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                        case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                        case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                        case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                        default: out.append(byte)
                        }
                    }
                case let .blob(b):
                    out.append(contentsOf: "\\\\x".utf8)
                    for byte in b {
                        out.append(hex[Int(byte >> 4)])
                        out.append(hex[Int(byte & 15)])
                    }
                }
            }
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// Sends this statement behind those in flight (one round trip for all of them), then
    /// waits for all.
    private func execute(_ sql: String, _ values: [SQLValue], rollback: Bool = false, counting: Bool = false) throws -> PostgresAnswer {
        // A rollback undoes what a prefetched query's failure failed: it must still be sent.
        if rollback { try? readPrefetched() }
        let ticket: AnyObject
        do {
            ticket = try issue(sql, values, counting: counting)
        } catch {
            try? drain(ignoring: true)
            throw Self.storeError(error, what: sql)
        }
        // This one answers last: once it has, so have those in flight before it.
        _ = try? wait(ticket)
        try drain(ignoring: rollback)
        do {
            return try wait(ticket)
        } catch {
            throw Self.storeError(error, what: sql)
        }
    }

    public func rollback(_ sql: String) throws {
        _ = try execute(sql, [], rollback: true)
    }

    /// Reads the answers of every prefetched query (kept in their tickets for `rows()`); the
    /// first failure is thrown (the transaction is failed: nothing sent after it would run).
    private func readPrefetched() throws {
        guard !prefetched.isEmpty else { return }
        let waiting = prefetched
        prefetched.removeAll()
        var first: StoreError?
        for (sql, ticket) in waiting {
            do { _ = try wait(ticket) } catch { if first == nil { first = Self.storeError(error, what: sql) } }
        }
        if let first { throw first }
    }

    /// Inside a transaction, sent at once — PostgreSQL works on it while the caller does
    /// something else — and answered when its rows are asked for; outside, run then.
    public func prefetch(_ sql: String, _ values: [SQLValue]) throws -> SQLPrefetch {
        guard inTransaction else { return SQLPrefetch { try self.query(sql, values) } }
        let ticket: AnyObject
        do {
            ticket = try issue(sql, values)
            try link?.send()
        } catch {
            try? drain(ignoring: true)
            throw Self.storeError(error, what: sql)
        }
        prefetched.append((sql, ticket))
        return SQLPrefetch { [self] in
            prefetched.removeAll { $0.ticket === ticket }
            // Those sent before it answer first: a failure of theirs is the one to report.
            _ = try? wait(ticket)
            try drain()
            do {
                return try wait(ticket).rows
            } catch {
                throw Self.storeError(error, what: sql)
            }
        }
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
        try execute(sql, values).rows
    }

    /// Inside a transaction: all sent, then all waited for (one round trip).
    public func queries(_ statements: [(sql: String, values: [SQLValue])]) throws -> [[[SQLValue]]] {
        guard inTransaction, statements.count > 1 else { return try statements.map { try query($0.sql, $0.values) } }
        var answers = [(sql: String, ticket: AnyObject)]()
        var failure: StoreError?
        for s in statements {
            do {
                answers.append((s.sql, try issue(s.sql, s.values)))
            } catch let e as Earlier {
                // A statement sent before these failed: nothing of these can have run.
                for (_, ticket) in answers { _ = try? wait(ticket) }
                throw e.error
            } catch {
                failure = Self.storeError(error, what: s.sql)
                break
            }
        }
        // What was sent before these, then these, in order: the first failure is the one to report
        // (a later one is PostgreSQL refusing statements of a transaction already failed).
        if let last = answers.last { _ = try? wait(last.ticket) }
        var earlier: StoreError?
        do { try drain() } catch { earlier = Self.storeError(error, what: "") }
        var out = [[[SQLValue]]]()
        var first: StoreError?
        for (sql, ticket) in answers {
            do { out.append(try wait(ticket).rows) } catch { if first == nil { first = Self.storeError(error, what: sql) } }
        }
        if let error = earlier ?? first ?? failure { throw error }
        return out
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
            try? readPrefetched()
            try? drain(ignoring: true)
        }
        for statement in begin { try send(statement, []) }
        do {
            let result = try body()
            try run("COMMIT", [])
            return result
        } catch {
            if let link, !link.isClosed { try? rollback("ROLLBACK") }
            throw error
        }
    }

    public func atomically<T>(_ body: () throws -> T) throws -> T { try transaction(begin: ["BEGIN"], body) }

    /// PostgreSQL's failures as the store's: a serialization failure, a deadlock, a lock wait
    /// that timed out and a lost connection are `StoreError.unavailable` (retry later); the
    /// rest keep SQLSTATE and message. The statement's text is never part of it.
    static func storeError(_ error: any Error, what: String) -> StoreError {
        if let e = error as? StoreError { return e }
        if let e = error as? Earlier { return e.error }
        let state: String, message: String, why: String
        if let p = error as? PostgresClient.ServerError {
            state = p.state
            message = p.message
            why = message
        } else if let p = error as? PSQLError {
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
struct Earlier: Error {
    let error: StoreError
}
