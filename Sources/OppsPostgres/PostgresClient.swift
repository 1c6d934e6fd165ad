import Crypto
import Foundation
import OppsStore

#if canImport(Glibc)
    import Glibc
#endif

/// PostgreSQL's frontend/backend protocol (version 3) over a plain TCP socket, used from one
/// thread and blocking it: the hub's engine thread writes its statements and reads their answers
/// itself. No event loop, no futures, no thread hop per statement (postgres-nio's were about a
/// third of the hub's CPU on PostgreSQL: BENCHMARKS.md, thirteenth session), and statements
/// really are pipelined: each is Parse/Bind/Execute/Sync written behind the ones before it, and
/// all go out in one write when an answer is needed (`flush`). Each answer ends at its own
/// ReadyForQuery, so a failure ends that statement alone (inside a transaction, the ones after it
/// fail too, as PostgreSQL refuses statements of an aborted transaction).
///
/// Rows come back in the binary format: bigint, integer, smallint, boolean, double, real and
/// bytea as values; any other type as its bytes read as UTF-8 text.
final class PostgresClient {
    private let fd: Int32
    private var closed = false

    /// True once the connection is known to be gone. While nothing is in flight, the socket is
    /// looked at first (one `poll`, no wait): a server that went away while the connection sat
    /// idle (restarted, crashed, the session terminated) has closed it or said why, and the next
    /// statement should open a new connection rather than fail on this one.
    var isClosed: Bool {
        if closed { return true }
        guard waiting.isEmpty, out.isEmpty, position == input.count else { return false }
        var p = pollfd(fd: fd, events: Int16(POLLIN) | 0x2000 /* POLLRDHUP */, revents: 0)
        guard poll(&p, 1, 0) > 0 else { return false }
        // Something came unasked: a notice, a parameter change, or the server's goodbye.
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 {
                input.append(contentsOf: chunk[0..<n])
                continue
            }
            if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                close(because: "closed by the server")
                return true
            }
            break
        }
        // Whole messages only; an ErrorResponse outside any statement is the session ending.
        while input.count - position >= 5 {
            let length = Int(Self.int32(input, position + 1))
            guard length >= 4, input.count - position >= 1 + length else { break }
            let type = input[position]
            position += 1 + length
            if type == UInt8(ascii: "E") {
                close(because: "ended by the server")
                return true
            }
        }
        return false
    }
    private var out: [UInt8] = []
    private var input: [UInt8] = []
    private var position = 0
    /// What each `recv` reads into.
    private var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    /// Statements written and not yet answered, in order.
    private var waiting: [Ticket] = []
    /// Named statements on this connection, by key (value kinds + text).
    private var statements: [String: Statement] = [:]
    private static let statementLimit = 256
    /// Names are never reused on a connection (one refused is forgotten; others may follow it).
    private var named = 0

    /// A statement named on this connection; its result columns' types once described.
    final class Statement {
        let name: String
        var columns: [Int32]?
        init(name: String) { self.name = name }
    }

    /// One statement's answer, filled in as its messages are read.
    final class Ticket {
        var columns: [Int32]?
        /// Of a statement parsed with this ticket: told the columns when they are described.
        let statement: Statement?
        /// Parsed with this ticket: forgotten if PostgreSQL refuses it.
        let parsing: String?
        var rows: [[SQLValue]] = []
        var changed: Int?
        var failure: (any Error)?
        var done = false
        init(statement: Statement?, parsing: String?) {
            self.statement = statement
            self.parsing = parsing
            columns = statement?.columns
        }
    }

    /// An ErrorResponse: SQLSTATE and message.
    struct ServerError: Error, CustomStringConvertible {
        let state: String
        let message: String
        var description: String { "\(state): \(message)" }
    }

    static func lost(_ what: String) -> StoreError {
        StoreError(code: StoreError.unavailable, message: "the connection to PostgreSQL was lost (\(what))")
    }

    /// How long a read or a write on the socket may wait (`PostgresSQLConnection.answerLimit`).
    var answerLimit: Duration? {
        didSet { applySendLimit() }
    }

    /// The limit in whole milliseconds for `poll` (-1: none).
    private var answerLimitMilliseconds: Int32 { answerLimit.map { Int32(clamping: Self.milliseconds($0)) } ?? -1 }

    /// A limit in whole milliseconds, at least 1.
    static func milliseconds(_ limit: Duration) -> Int64 {
        let (seconds, attoseconds) = limit.components
        return max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// What a statement failing for the limit says.
    static func silence(_ limit: Duration) -> String {
        let ms = milliseconds(limit)
        return "PostgreSQL did not answer within \(ms % 1000 == 0 ? "\(ms / 1000) s" : "\(ms) ms")"
    }

    private var silence: String { Self.silence(answerLimit ?? .zero) }

    /// A send blocks at most the limit (a server that stopped reading fills the socket's buffer).
    private func applySendLimit() {
        let ms = max(0, Int(answerLimitMilliseconds))
        var limit = timeval(tv_sec: ms / 1000, tv_usec: Int((ms % 1000) * 1000))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    init(location: PostgresLocation, answerLimit: Duration? = nil, connectTimeoutSeconds: Int = 10) throws {
        fd = try Self.connect(host: location.host, port: location.port, timeout: connectTimeoutSeconds)
        self.answerLimit = answerLimit
        applySendLimit()
        do {
            try startup(location)
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    func close() { close(because: "closed") }

    /// Closes the socket; statements still waiting fail with `why`.
    private func close(because why: String) {
        guard !closed else { return }
        closed = true
        // Terminate, then close: the server ends the session without logging a lost client.
        var bye: [UInt8] = [UInt8(ascii: "X"), 0, 0, 0, 4]
        _ = bye.withUnsafeMutableBytes { Glibc.send(fd, $0.baseAddress, 5, Int32(MSG_NOSIGNAL)) }
        Glibc.close(fd)
        for t in waiting where !t.done {
            t.failure = Self.lost(why)
            t.done = true
        }
        waiting.removeAll()
    }

    // MARK: Socket

    private static func connect(host: String, port: Int, timeout: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw StoreError(code: StoreError.unavailable, message: "PostgreSQL unreachable: cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let a = next {
            next = a.pointee.ai_next
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            var limit = timeval(tv_sec: timeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))  // bounds connect too
            if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
                // A server that vanished without a reset fails the statement within a minute
                // instead of blocking the hub's thread forever.
                var unacknowledged: UInt32 = 60_000
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &unacknowledged, socklen_t(MemoryLayout<UInt32>.size))
                // …and one that vanished while the hub waits for an answer (its request was
                // acknowledged) within about a minute: probes after 30 s of silence, 10 s apart, 3.
                var idle: Int32 = 30, interval: Int32 = 10, probes: Int32 = 3
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, socklen_t(MemoryLayout<Int32>.size))
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &interval, socklen_t(MemoryLayout<Int32>.size))
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &probes, socklen_t(MemoryLayout<Int32>.size))
                var never = timeval(tv_sec: 0, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &never, socklen_t(MemoryLayout<timeval>.size))
                return fd
            }
            lastError = errno
            Glibc.close(fd)
        }
        throw StoreError(code: StoreError.unavailable, message: "PostgreSQL unreachable: \(String(cString: strerror(lastError))) (\(host):\(port))")
    }

    /// Writes everything queued.
    func flush() throws {
        guard !out.isEmpty else { return }
        guard !closed else { throw Self.lost("closed") }
        var sent = 0
        let total = out.count
        while sent < total {
            let n = out.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, total - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                let why = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? silence : String(cString: strerror(errno))
                close(because: why)
                throw Self.lost(why)
            }
            sent += n
        }
        out.removeAll(keepingCapacity: out.capacity <= 1 << 20)
    }

    /// At least `count` unread bytes in `input`.
    private func fill(_ count: Int) throws {
        if input.count - position >= count { return }
        if position > 0 {
            input.removeSubrange(0..<position)
            position = 0
        }
        while input.count < count {
            if answerLimit != nil {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&p, 1, answerLimitMilliseconds)
                if ready < 0, errno == EINTR { continue }
                if ready == 0 {
                    close(because: silence)
                    throw Self.lost(silence)
                }
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                let why = n == 0 ? "closed by the server" : String(cString: strerror(errno))
                close(because: why)
                throw Self.lost(why)
            }
            input.append(contentsOf: chunk[0..<n])
        }
    }

    /// The next message: its type, and its body as a range of `input` (valid until the next read).
    private func message() throws -> (type: UInt8, body: Range<Int>) {
        try fill(5)
        let type = input[position]
        let length = Int(Self.int32(input, position + 1))
        guard length >= 4 else {
            close(because: "a malformed message")
            throw Self.lost("a malformed message")
        }
        try fill(1 + length)
        let body = (position + 5)..<(position + 1 + length)
        position += 1 + length
        return (type, body)
    }

    // MARK: Encoding

    static func int32(_ b: [UInt8], _ i: Int) -> Int32 {
        Int32(bitPattern: UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3]))
    }

    static func int16(_ b: [UInt8], _ i: Int) -> Int16 { Int16(bitPattern: UInt16(b[i]) << 8 | UInt16(b[i + 1])) }

    private func put32(_ v: Int32) {
        let u = UInt32(bitPattern: v)
        out.append(UInt8(u >> 24))
        out.append(UInt8(truncatingIfNeeded: u >> 16))
        out.append(UInt8(truncatingIfNeeded: u >> 8))
        out.append(UInt8(truncatingIfNeeded: u))
    }

    private func put16(_ v: Int16) {
        let u = UInt16(bitPattern: v)
        out.append(UInt8(u >> 8))
        out.append(UInt8(truncatingIfNeeded: u))
    }

    private func putString(_ s: String) {
        out.append(contentsOf: s.utf8)
        out.append(0)
    }

    /// A message: type byte, then `body` writes its contents; the length is filled in after.
    private func put(_ type: UInt8?, _ body: () -> Void) {
        if let type { out.append(type) }
        let at = out.count
        out.append(contentsOf: [0, 0, 0, 0])
        body()
        let length = UInt32(out.count - at)
        out[at] = UInt8(length >> 24)
        out[at + 1] = UInt8(truncatingIfNeeded: length >> 16)
        out[at + 2] = UInt8(truncatingIfNeeded: length >> 8)
        out[at + 3] = UInt8(truncatingIfNeeded: length)
    }

    /// The type each value is sent as (0: let PostgreSQL infer it, for a null).
    static func oid(_ v: SQLValue) -> Int32 {
        switch v {
        case .null: return 0
        case .integer: return 20
        case .real: return 701
        case .text: return 25
        case .blob: return 17
        }
    }

    // MARK: Startup

    private func startup(_ location: PostgresLocation) throws {
        put(nil) {
            put32(196_608)  // protocol 3.0
            for (k, v) in [("user", location.user), ("database", location.database), ("client_encoding", "UTF8"), ("application_name", "opps-hub")] {
                putString(k)
                putString(v)
            }
            out.append(0)
        }
        try flush()
        var scram: SCRAM?
        while true {
            let (type, body) = try message()
            switch type {
            case UInt8(ascii: "R"):
                let code = Self.int32(input, body.lowerBound)
                let rest = Array(input[(body.lowerBound + 4)..<body.upperBound])
                switch code {
                case 0: break
                case 3:
                    let pw = try password(location)
                    put(UInt8(ascii: "p")) { putString(pw) }
                    try flush()
                case 5:
                    let pw = try password(location)
                    let inner = Self.hex(Insecure.MD5.hash(data: Array((pw + location.user).utf8)))
                    let outer = Self.hex(Insecure.MD5.hash(data: Array(inner.utf8) + rest.prefix(4)))
                    put(UInt8(ascii: "p")) { putString("md5" + outer) }
                    try flush()
                case 10:
                    let mechanisms = String(decoding: rest, as: UTF8.self).split(separator: "\0").map(String.init)
                    guard mechanisms.contains("SCRAM-SHA-256") else {
                        throw StoreError(code: -20, message: "PostgreSQL asks for \(mechanisms.joined(separator: ", ")), which the hub does not speak")
                    }
                    let s = SCRAM(password: try password(location))
                    scram = s
                    let first = Array(s.clientFirst.utf8)
                    put(UInt8(ascii: "p")) {
                        putString("SCRAM-SHA-256")
                        put32(Int32(first.count))
                        out.append(contentsOf: first)
                    }
                    try flush()
                case 11:
                    guard let s = scram, let final = s.clientFinal(serverFirst: String(decoding: rest, as: UTF8.self)) else {
                        throw StoreError(code: -20, message: "PostgreSQL's SCRAM exchange was malformed")
                    }
                    put(UInt8(ascii: "p")) { out.append(contentsOf: Array(final.utf8)) }
                    try flush()
                case 12:
                    guard let s = scram, s.verify(serverFinal: String(decoding: rest, as: UTF8.self)) else {
                        throw StoreError(code: -20, message: "PostgreSQL's SCRAM signature did not verify: not the server expected")
                    }
                default:
                    throw StoreError(code: -20, message: "PostgreSQL asks for an authentication method the hub does not speak (\(code))")
                }
            case UInt8(ascii: "E"):
                let e = Self.serverError(input[body])
                // 28P01/28000: a wrong password or no such user is the operator's to fix, not retryable.
                throw StoreError(code: -20, message: "PostgreSQL refused the connection: \(e.message) (\(e.state))")
            case UInt8(ascii: "Z"):
                return
            default:
                continue  // ParameterStatus, BackendKeyData, notices
            }
        }
    }

    private func password(_ location: PostgresLocation) throws -> String {
        guard let p = location.password else { throw StoreError(code: -20, message: "PostgreSQL asks for a password; put it in the URL") }
        return p
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var s = [UInt8]()
        for b in digest {
            s.append(digits[Int(b >> 4)])
            s.append(digits[Int(b & 15)])
        }
        return String(decoding: s, as: UTF8.self)
    }

    static func serverError(_ body: ArraySlice<UInt8>) -> ServerError {
        var state = "", message = ""
        var i = body.startIndex
        while i < body.endIndex, body[i] != 0 {
            let field = body[i]
            var j = i + 1
            while j < body.endIndex, body[j] != 0 { j += 1 }
            let value = String(decoding: body[(i + 1)..<j], as: UTF8.self)
            if field == UInt8(ascii: "C") { state = value }
            if field == UInt8(ascii: "M") { message = value }
            i = j + 1
        }
        return ServerError(state: state, message: message)
    }

    // MARK: Statements

    /// Writes a statement behind those not yet answered (nothing is sent until `flush`).
    /// `prepare`: name it on this connection, by its text and its values' kinds, and from then on
    /// send only Bind/Execute.
    func issue(_ sql: String, _ values: [SQLValue], key: String?) throws -> Ticket {
        guard !closed else { throw Self.lost("closed") }
        var statement: Statement?
        var parsing: String?
        if let key {
            if let known = statements[key] {
                statement = known
            } else if statements.count < Self.statementLimit {
                named += 1
                let s = Statement(name: "s\(named)")
                statements[key] = s
                statement = s
                parsing = key
            }
        }
        let ticket = Ticket(statement: statement, parsing: parsing)
        let name = statement?.name ?? ""
        if statement == nil || parsing != nil {
            put(UInt8(ascii: "P")) {
                putString(name)
                putString(sql)
                put16(Int16(truncatingIfNeeded: values.count))
                for v in values { put32(Self.oid(v)) }
            }
        }
        if parsing != nil {
            put(UInt8(ascii: "D")) {
                out.append(UInt8(ascii: "S"))
                putString(name)
            }
        }
        put(UInt8(ascii: "B")) {
            out.append(0)  // the unnamed portal
            putString(name)
            put16(1)
            put16(1)  // every parameter in binary
            put16(Int16(truncatingIfNeeded: values.count))
            for v in values {
                switch v {
                case .null: put32(-1)
                case let .integer(i):
                    put32(8)
                    let u = UInt64(bitPattern: i)
                    for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: u >> UInt64(shift))) }
                case let .real(d):
                    put32(8)
                    let u = d.bitPattern
                    for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: u >> UInt64(shift))) }
                case let .text(t):
                    put32(Int32(t.utf8.count))
                    out.append(contentsOf: t.utf8)
                case let .blob(b):
                    put32(Int32(b.count))
                    out.append(contentsOf: b)
                }
            }
            put16(1)
            put16(1)  // every result column in binary
        }
        if statement == nil {
            put(UInt8(ascii: "D")) {
                out.append(UInt8(ascii: "P"))
                out.append(0)
            }
        }
        put(UInt8(ascii: "E")) {
            out.append(0)
            put32(0)
        }
        put(UInt8(ascii: "S")) {}
        waiting.append(ticket)
        return ticket
    }

    /// Reads answers in order until `ticket`'s has come; throws its failure.
    func answer(_ ticket: Ticket) throws -> (rows: [[SQLValue]], changed: Int?) {
        if !ticket.done {
            try flush()
            while !ticket.done { try readOne() }
        }
        if let failure = ticket.failure { throw failure }
        return (ticket.rows, ticket.changed)
    }

    /// Reads the next message and files it under the first statement not yet answered.
    private func readOne() throws {
        let (type, body) = try message()
        guard let t = waiting.first else {
            if type == UInt8(ascii: "E") { throw Self.serverError(input[body]) }
            return
        }
        switch type {
        case UInt8(ascii: "D"):
            guard t.failure == nil else { return }
            // A statement parsed by an earlier ticket of the same pipeline is described in that
            // ticket's answer, which was read before this one's rows.
            if t.columns == nil { t.columns = t.statement?.columns }
            t.rows.append(row(body, columns: t.columns ?? []))
        case UInt8(ascii: "T"):
            let columns = Self.columnTypes(input, body)
            t.columns = columns
            t.statement?.columns = columns
        case UInt8(ascii: "n"):
            t.columns = []
            t.statement?.columns = []
        case UInt8(ascii: "C"):
            t.changed = Self.count(input[body])
        case UInt8(ascii: "E"):
            if t.failure == nil { t.failure = Self.serverError(input[body]) }
            // A statement PostgreSQL refused to parse is not named on this connection.
            if let key = t.parsing, let s = statements[key], s === t.statement { statements[key] = nil }
        case UInt8(ascii: "Z"):
            t.done = true
            waiting.removeFirst()
        default:
            break  // ParseComplete, BindComplete, ParameterDescription, notices, statuses
        }
    }

    /// The result columns' types of a RowDescription.
    private static func columnTypes(_ b: [UInt8], _ body: Range<Int>) -> [Int32] {
        let n = Int(int16(b, body.lowerBound))
        var i = body.lowerBound + 2
        var out = [Int32]()
        out.reserveCapacity(n)
        for _ in 0..<n {
            while b[i] != 0 { i += 1 }  // name
            i += 1 + 4 + 2  // table oid, column number
            out.append(int32(b, i))
            i += 4 + 2 + 4 + 2  // type oid, size, modifier, format
        }
        return out
    }

    /// The rows a CommandComplete tag counts (`INSERT 0 5`, `UPDATE 3`, `SELECT 2`, `COPY 7`).
    private static func count(_ tag: ArraySlice<UInt8>) -> Int? {
        var end = tag.endIndex
        while end > tag.startIndex, tag[end - 1] == 0 { end -= 1 }
        var start = end
        while start > tag.startIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(tag[start - 1]) { start -= 1 }
        guard start < end, start > tag.startIndex, tag[start - 1] == UInt8(ascii: " ") else { return nil }
        return Int(String(decoding: tag[start..<end], as: UTF8.self))
    }

    private func row(_ body: Range<Int>, columns: [Int32]) -> [SQLValue] {
        let b = input
        let n = Int(Self.int16(b, body.lowerBound))
        var i = body.lowerBound + 2
        var out = [SQLValue]()
        out.reserveCapacity(n)
        for c in 0..<n {
            let length = Int(Self.int32(b, i))
            i += 4
            guard length >= 0 else {
                out.append(.null)
                continue
            }
            let cell = i..<(i + length)
            i += length
            switch c < columns.count ? columns[c] : 25 {
            case 20: out.append(.integer(Self.signed(b, cell)))
            case 23, 21: out.append(.integer(Self.signed(b, cell)))
            case 16: out.append(.integer(length > 0 && b[cell.lowerBound] != 0 ? 1 : 0))
            case 701: out.append(.real(Double(bitPattern: UInt64(bitPattern: Self.signed(b, cell)))))
            case 700: out.append(.real(Double(Float(bitPattern: UInt32(truncatingIfNeeded: Self.signed(b, cell))))))
            case 17: out.append(.blob(Array(b[cell])))
            default: out.append(.text(String(decoding: b[cell], as: UTF8.self)))
            }
        }
        return out
    }

    /// A big-endian two's-complement integer of 2, 4 or 8 bytes.
    private static func signed(_ b: [UInt8], _ cell: Range<Int>) -> Int64 {
        var u: UInt64 = 0
        for i in cell { u = u << 8 | UInt64(b[i]) }
        let bits = cell.count * 8
        guard bits > 0, bits < 64 else { return Int64(bitPattern: u) }
        let shift = UInt64(64 - bits)
        return Int64(bitPattern: u << shift) >> Int64(shift)
    }

    // MARK: COPY

    /// `COPY table (columns) FROM STDIN` in the text format, with `text` as its data. The caller
    /// has waited for every statement before it (`PostgresSQLConnection.copy` drains first).
    func copyRows(into table: String, columns: [String], text: [UInt8]) throws -> Int {
        guard waiting.isEmpty else { throw StoreError(code: -21, message: "COPY behind statements not yet answered") }
        let quoted = columns.map { "\"\($0)\"" }.joined(separator: ", ")
        put(UInt8(ascii: "Q")) { putString("COPY \"\(table)\" (\(quoted)) FROM STDIN") }
        try flush()
        var failure: (any Error)?
        var changed = 0
        var sentData = false
        while true {
            let (type, body) = try message()
            switch type {
            case UInt8(ascii: "G"):
                var at = 0
                while at < text.count {
                    let end = min(text.count, at + 256 * 1024)
                    put(UInt8(ascii: "d")) { out.append(contentsOf: text[at..<end]) }
                    at = end
                    if out.count >= 1 << 20 { try flush() }
                }
                put(UInt8(ascii: "c")) {}
                try flush()
                sentData = true
            case UInt8(ascii: "C"): changed = Self.count(input[body]) ?? 0
            case UInt8(ascii: "E"): if failure == nil { failure = Self.serverError(input[body]) }
            case UInt8(ascii: "Z"):
                if let failure { throw failure }
                guard sentData else { throw Self.lost("COPY was not started") }
                return changed
            default: continue
            }
        }
    }
}

/// SCRAM-SHA-256 (RFC 5802, 7677) as PostgreSQL speaks it: no channel binding, the user name
/// left to the startup message. One exchange per instance.
final class SCRAM {
    let password: String
    let nonce: String
    private var authMessage: [UInt8] = []
    private var salted: [UInt8] = []

    init(password: String) {
        self.password = password
        var g = SystemRandomNumberGenerator()
        nonce = Data((0..<18).map { _ in UInt8.random(in: 0...255, using: &g) }).base64EncodedString()
    }

    var clientFirstBare: String { "n=,r=\(nonce)" }
    var clientFirst: String { "n,," + clientFirstBare }

    /// The client's final message for the server's first, or nil when that is malformed or does
    /// not extend our nonce.
    func clientFinal(serverFirst: String) -> String? {
        var fields = [Character: String]()
        for part in serverFirst.split(separator: ",") where part.count >= 2 && part.dropFirst().first == "=" {
            fields[part.first!] = String(part.dropFirst(2))
        }
        guard let r = fields["r"], r.hasPrefix(nonce), r.count > nonce.count, let s = fields["s"], let salt = Data(base64Encoded: s),
            let i = fields["i"].flatMap(Int.init), i > 0, i <= 10_000_000
        else { return nil }
        salted = Self.pbkdf2(password: Array(password.utf8), salt: Array(salt), iterations: i)
        let withoutProof = "c=biws,r=\(r)"
        authMessage = Array((clientFirstBare + "," + serverFirst + "," + withoutProof).utf8)
        let clientKey = Self.hmac(salted, Array("Client Key".utf8))
        let stored = Array(SHA256.hash(data: clientKey))
        let signature = Self.hmac(stored, authMessage)
        let proof = zip(clientKey, signature).map { $0 ^ $1 }
        return withoutProof + ",p=" + Data(proof).base64EncodedString()
    }

    /// The server's proof that it knows the password too.
    func verify(serverFinal: String) -> Bool {
        guard !salted.isEmpty, serverFinal.hasPrefix("v="), let v = Data(base64Encoded: String(serverFinal.dropFirst(2))) else { return false }
        let serverKey = Self.hmac(salted, Array("Server Key".utf8))
        return Array(v) == Self.hmac(serverKey, authMessage)
    }

    static func hmac(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    static func pbkdf2(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var u = Array(HMAC<SHA256>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var result = u
        for _ in 1..<iterations {
            u = Array(HMAC<SHA256>.authenticationCode(for: u, using: key))
            for j in 0..<result.count { result[j] ^= u[j] }
        }
        return result
    }
}
