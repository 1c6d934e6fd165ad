import Foundation
import OppsCore
import OppsStore
import OppsWire
import SwiftProtobuf

/// Why a local operation was refused.
public enum ReplicaError: Error, Sendable, CustomStringConvertible {
    /// The replica home holds no replica.
    case notInitialised(String)
    /// Bad input (an unknown record, field or value) or a state the replica cannot take; with
    /// the same sentence in Chinese where a rep meets it (`chinese(_:)`).
    case invalid(String, chinese: String? = nil)
    /// An ownership rule refused the write (checked locally with the hub's workspace);
    /// `missing`: the fields a stage gate found missing, in workspace order.
    /// `entity`: the refused field's (a refused creation names the entity as its field).
    case refused(entity: String, field: String, rule: RuleID, detail: String, missing: [String] = [])
    /// Authentication failed at the hub.
    case authentication(String)
    /// The hub could not be reached; local work is kept.
    case unreachable(String)
    /// Something about the hub's answers this replica cannot go on with (said in words).
    case hub(String)
    /// The hub refused a request: its HTTP status and error (errors.md); callers match the code.
    case hubRefused(status: Int, WireError)
    /// The hub's TLS certificate is not trusted (or names another host).
    case certificate(String)
    /// The operator disabled this user; local work stays.
    case disabled(String)
    /// `opps init` could not reach the hub: no replica was made.
    case unreachableAtInit(String)
    /// `opps init`'s token was refused: no replica was made (there is nothing to `connect`).
    case authenticationAtInit(String)
    /// `opps init` does not trust the hub's certificate: no replica was made.
    case certificateAtInit(String)
    /// No hub at the replica's (or init's) address, or one that speaks http:// where https://
    /// was given; `atInit`: no replica was made.
    case wrongAddress(WrongAddress, atInit: Bool = false)
    /// What was typed for a record names none, or more than one (`resolveID`): the records it
    /// could mean, the first five, and how many there are.
    case lookup(RecordLookup, typed: String, candidates: [RecordCandidate], count: Int)
    /// A value typed for a field that its type does not take (`Replica.parse`).
    case badValue(entity: String, field: String, BadValue, text: String)
    /// A field typed by a name or label the entity does not have; `fields`: the entity's.
    case unknownField(entity: String, typed: String, fields: [String])
    /// A write to a record the user's role may change only when it is assigned to them (the
    /// relation `assignee`), and it is not: someone else's task (rule `read-only`).
    case notAssigned(entity: String, field: String)

    public var description: String {
        switch self {
        case let .notInitialised(home): "no replica in \(home): run opps init --hub URL --token TOKEN"
        case let .invalid(why, _): why
        case let .refused(_, field, rule, detail, _): "refused: \(field): \(detail) (rule \(rule.rawValue))"
        case let .authentication(why):
            "the hub did not accept the token (\(why)): ask the operator for a new one and run opps connect --token NEW (your pending work is kept)"
        case .disabled: "the operator has disabled your user on this hub: ask them to enable it (opps-hub user enable); your local work is kept"
        case let .unreachableAtInit(why): "the hub cannot be reached (\(why)); no replica was made: check the --hub URL and that the hub runs, then try again"
        case let .authenticationAtInit(why):
            "the hub did not accept the token (\(why)); no replica was made: check that you typed the whole token the operator gave you, or ask for a new one, then run opps init again"
        case let .certificateAtInit(why):
            "the hub's certificate is not trusted (\(why)); no replica was made: get the hub's CA certificate from the operator and run opps init again with --ca FILE"
        case let .certificate(why): "the hub's certificate is not trusted (\(why)): get the hub's CA certificate from the operator and run opps connect --ca FILE"
        case let .wrongAddress(.notAHub(status), atInit):
            "no OppSync hub answers at this address (it answered HTTP \(status))"
                + (atInit
                    ? "; no replica was made: give --hub as the operator gave it, up to its port (e.g. http://127.0.0.1:8080)"
                    : ": check the address with opps status, and give the right one with opps connect --hub URL (your work is kept)")
        case let .wrongAddress(.speaksHTTP(url), atInit) where WrongAddress.isThisMachine(url):
            "the hub at this address speaks http://, not https://"
                + (atInit ? "; no replica was made: run opps init again with --hub \(url)" : ": run opps connect --hub \(url) (your work is kept)")
        case let .wrongAddress(.speaksHTTP, atInit):
            // Not on this machine: someone between here and the hub can make https:// fail and answer
            // http:// themselves; the rep is not sent to an address that carries the token in clear.
            "the server at this address answers http://, not https://: ask the operator for the hub's address (over http:// your token travels unencrypted)"
                + (atInit ? "; no replica was made" : "; your work is kept")
        case let .unreachable(why): "the hub cannot be reached (\(why)); your work is kept and will sync later"
        case let .hub(why): why
        case let .hubRefused(status, e) where e.code == .unavailable:
            "the hub cannot take writes now (\(status) \(e.code.rawValue): \(e.message)); your work is kept: run opps sync again later"
        // The hub failed on its side (its detail is its log's, never a client's: errors.md): the
        // push is kept in the outbox and sent again.
        case let .hubRefused(status, e) where e.code == .internal:
            "the hub failed on its side (\(status) \(e.code.rawValue)); your work is kept: run opps sync again later, and tell the hub's operator if it goes on"
        case let .hubRefused(status, e): "the hub refused (\(status) \(e.code.rawValue)): \(e.message)"
        case let .unknownField(entity, typed, fields): "\(entity) has no field \"\(typed)\" (fields: \(fields.joined(separator: ", ")))"
        case let .notAssigned(entity, field):
            "refused: \(field): this \(entity) is not assigned to you, so you may read it but not change it (rule read-only)"
        case let .badValue(_, field, kind, text):
            switch kind {
            case .wholeNumber:
                "\(field): "
                    + (BadValue.beyondRange(text)
                        ? "\(text) is out of range (whole numbers go from -9223372036854775808 to 9223372036854775807)" : "not a whole number: \(text)")
                    + (BadValue.withoutPercent(text).map { " (write \($0), without %)" } ?? "")
            case .decimal: "\(field): not a decimal number: \(text)" + (BadValue.withoutPercent(text).map { " (write \($0), without %)" } ?? "")
            case .date: "\(field): not a date: \(text) (write 2026-12-05, 12-05, tomorrow or in 3 days)"
            case .time: "\(field): not a time (YYYY-MM-DD HH:MM, or a day and a time: yesterday 15:00): \(text)"
            case let .record(entity): "\(field): \(text) is not a\(entity.first.map { "aeiou".contains($0) } == true ? "n" : "") \(entity) on this laptop"
            case .boolean: "\(field): not a boolean (true or false): \(text)"
            case .placeholder: "\(field): \(text) is the example's placeholder: write what it is"
            case let .member(members): "\(field): \"\(text)\" is not one of \(members.joined(separator: ", "))"
            case let .user(close, all):
                "\(field): \(text) is not a user of the hub"
                    + (!close.isEmpty ? " (did you mean \(close.joined(separator: ", "))?)" : !all.isEmpty ? " (users: \(all.joined(separator: ", ")))" : "")
                    + "; a user added since your last sync is known after opps sync"
            }
        case let .lookup(kind, typed, candidates, count):
            switch kind {
            case .unknown: "no record here has the id or name \"\(typed)\": ids are the 8 characters opps list prints"
            case .partOfName:
                "no record is named \"\(typed)\"; \(count == 1 ? "one name contains" : "\(count) names contain") it (\(RecordCandidate.list(candidates, count))): use the id"
            case .sameName: "\"\(typed)\" names \(count) records (\(RecordCandidate.list(candidates, count))): use the id"
            case .sameCode: "\(typed) matches \(count) records (\(RecordCandidate.list(candidates, count))): give more characters"
            case .sameIDPrefix: "\(typed) matches \(count) records (\(RecordCandidate.list(candidates, count))): use the id"
            case .likelyDuplicate where candidates.first?.entity == "opportunity":
                "\"\(typed)\" looks like an open opportunity already here, \(candidates[0].code) \"\(candidates[0].name ?? "")\""
                    + ([candidates[0].stage, candidates[0].account].compactMap { $0 }.isEmpty
                        ? "" : " (\([candidates[0].stage, candidates[0].account].compactMap { $0 }.joined(separator: ", ")))")
                    + ": to work on it, give \(candidates[0].code)"
            case .likelyDuplicate:
                "\"\(typed)\" looks like the \(candidates.first?.entity ?? "record") \"\(candidates.first?.name ?? "")\" (\(candidates.first?.code ?? "")) already here: give \(candidates.first?.code ?? "its id") to use it"
            }
        }
    }
}

/// What a typed value is not, for the field it was typed for.
public enum BadValue: Sendable, Equatable {
    case wholeNumber, decimal, date, time, boolean
    /// The placeholder of a line opps prints to type (`客户需求=…`), copied as it is: a field
    /// holding "…" would pass a stage's gate with nothing in it.
    case placeholder
    /// Not a live record of this entity on this laptop.
    case record(String)
    /// Not one of the enum's members (their names).
    case member([String])
    /// A user field's value that names no user of the hub, by the list of names the last sync
    /// brought (sync-protocol.md §6.2 `users`): the names close to it; or, when none is and the
    /// hub has few users, `all` of them.
    case user(close: [String], all: [String])

    /// Digits alone, a whole number, but past what a 64-bit one holds (±9,223,372,036,854,775,807).
    static func beyondRange(_ text: String) -> Bool {
        let t = text.trimmingSpaces
        return t.wholeMatch(of: /[-+]?[0-9]+/) != nil && Int64(t) == nil
    }

    /// A number typed with a percent sign for a field that is not a percentage (`金额=15%`, or
    /// `赢率=60%` in a workspace without `unit`): the number to write instead. The sign is not
    /// taken there, as `金额=15%` must not become an amount of 15.
    static func withoutPercent(_ text: String) -> String? {
        guard text.last == "%" || text.last == "％", ExactDecimal.typed(String(text.dropLast())) != nil else { return nil }
        return String(text.dropLast())
    }
}

/// Why what was typed for a record did not name one.
public enum RecordLookup: Sendable {
    /// Nothing here has that id, short id or name.
    case unknown
    /// No name is that, but some contain it (never taken as the record: an edit must not land on
    /// a guess).
    case partOfName
    /// Several records have that name.
    case sameName
    /// Several records' short ids start with it.
    case sameCode
    /// Several records' full ids start with it.
    case sameIDPrefix
    /// A name for a new record that one here likely already is ("Omega Inc" for "Omega"; a deal
    /// named as an open deal of its account is: `Replica.newOpportunity`).
    case likelyDuplicate
}

/// What is wrong with the hub's address (`ReplicaError.wrongAddress`).
public enum WrongAddress: Sendable, Equatable {
    /// Something answered, but not the sync protocol (its HTTP status).
    case notAHub(status: Int)
    /// https:// was given; the hub answers at this http:// address.
    case speaksHTTP(String)

    /// Whether `url`'s host is this machine (a demo, a hub beside the laptop): the only place
    /// where a failed https:// and an answering http:// are surely the same server.
    public static func isThisMachine(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host?.lowercased() else { return false }
        // 127.0.0.0/8 as an address, not a name that begins with it (127.example.com).
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        let loopback4 = parts.count == 4 && parts[0] == "127" && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
        return host == "localhost" || host == "::1" || host == "[::1]" || loopback4
    }
}

/// A record a lookup could mean: its short id, entity and name.
public struct RecordCandidate: Sendable {
    public let code: String
    public let entity: String
    public let name: String?
    /// What tells it from another candidate of the same name (three deals named "恒远物流
    /// 客服升级", one a customer each): its stage, by name, and its account's name. Nil when its
    /// name is its own among the candidates.
    public var stage: String?
    public var account: String?

    public init(code: String, entity: String, name: String?, stage: String? = nil, account: String? = nil) {
        self.code = code
        self.entity = entity
        self.name = name
        self.stage = stage
        self.account = account
    }

    /// `7dka36sd opportunity "ACME rollout", …`: the first five of `count`; one whose name
    /// another shares with its stage and account: `(qualified, ACME Ltd)`.
    static func list(_ candidates: [RecordCandidate], _ count: Int) -> String {
        let named = candidates.map { c -> String in
            guard let name = c.name else { return "\(c.code) \(c.entity)" }
            let context = [c.stage, c.account].compactMap { $0 }
            return "\(c.code) \(c.entity) \"\(name)\"" + (context.isEmpty ? "" : " (\(context.joined(separator: ", ")))")
        }
        return named.joined(separator: ", ") + (count > candidates.count ? ", …" : "")
    }
}

/// What one local edit did to each field.
public struct EditResult: Sendable {
    public var record: RecordID
    /// Fields written (pending until the next sync).
    public var applied: [String]
    /// Fields the user may only propose: they become approval requests (or, where the
    /// workspace has none, bare proposals) the owner or a manager decides.
    public var proposed: [(field: String, rule: RuleID, detail: String)]
    /// The approval requests made for them, in the same order.
    public var requests: [RecordID] = []
    /// Fields asked for that already held the value: nothing was written for them.
    public var unchanged: [String] = []
    /// The account made with a new deal, when its name was no account's here (`newOpportunity`).
    public var madeAccount: RecordID?
}

/// What one sync did.
public struct SyncReport: Sendable {
    public var pushed = 0
    /// The records the pushed writes touched.
    public var pushedRecords: Int { pushedIDs.count }
    var pushedIDs = Set<RecordID>()
    /// The hub's sequence of the first write this sync pushed that it logged: what the hub wrote
    /// before it did not follow from this sync's writes.
    var firstPushedSequence: UInt64?
    /// The records of the pushed writes the hub logged (held): only those have effects that
    /// follow them (a refused write has none).
    var loggedIDs = Set<RecordID>()
    /// What the hub writes because of the pushed writes (`Replica.following`), once worked out.
    var following: ReplicaStore.Following?
    public var applied = 0
    /// Writes of mine that lost, were rejected or became proposals in this sync.
    public var conflicts = 0
    /// Writes of mine that did not hold after all, told by a conflict record this sync pulled:
    /// one that held when pushed and lost later to a concurrent write with more say, or one
    /// pushed from another laptop of mine. Not those `conflicts` counts already.
    public var overruled = 0
    /// Others' writes that lost to mine (made at the same time, with less say), told by the
    /// conflict records this sync pulled: who wrote each, in the order they came.
    public var heldOver: [UserName] = []
    /// The writes `conflicts` counted, so that their conflict records coming back in the same
    /// sync are not counted again.
    var lost = Set<ReplicaStore.OwnWrite>()
    public var pulled = 0
    /// Of what was pulled, what others did: records new here, and records and fields another
    /// replica changed (this replica's own writes coming back confirmed are pulled, not news).
    public var news = 0
    /// Of the news, the records another user made, new here: the first 20, and how many in all.
    public var newRecords: [RecordID] = []
    public var newRecordCount = 0
    /// The deals that left this laptop: no longer this user's to see (`ReplicaStore.Applied.gone`).
    public var gone: [ReplicaStore.Gone] = []
    public var goneCount = 0
    public var pages = 0
    public var repaired = false
    /// Of the repairs, those of a replica that differed from the hub (its checkpoint, or a hub
    /// behind it); not a re-sync from nothing because compaction passed its cursor.
    public var diverged = false
    /// This folder was an older copy of its replica: the sync took a new replica id and sent the
    /// edits it held as the older copy's (sync-protocol.md §5.5).
    public var tookNewID = false
    public var cursor: UInt64 = 0
    /// Hub clock minus this device's clock at the handshake.
    public var clockSkewMilliseconds: Int64 = 0
    /// Check-ins flagged because the clocks disagreed by more than the workspace allows.
    public var flaggedCheckins = 0
}

/// Progress of a long pull.
public struct SyncProgress: Sendable {
    /// Records and changes applied so far in this sync.
    public var received: Int
    public var pages: Int
    public var cursor: UInt64
    public var head: UInt64
    /// How many records the user may see (the hub's `visible`; 0 when the hub does not say).
    public var total: UInt64 = 0
    /// The cursor the pull started from: 0 for a first sync or a repair (whole records come).
    public var start: UInt64 = 0
    /// Every page is in; the replica is building the indexes a first sync leaves out while it
    /// loads (`ReplicaStore.beginBulkLoad`: seconds for a million records).
    public var indexing = false

    public init(received: Int, pages: Int, cursor: UInt64, head: UInt64, total: UInt64 = 0, start: UInt64 = 0, indexing: Bool = false) {
        self.received = received
        self.pages = pages
        self.cursor = cursor
        self.head = head
        self.total = total
        self.start = start
        self.indexing = indexing
    }

    /// The share done: records received of those visible when starting from nothing, else how
    /// far the cursor moved towards the head.
    public var done: Double {
        if start == 0, total > 0 { return min(1, Double(received) / Double(total)) }
        guard head > start else { return 1 }
        return min(1, Double(cursor > start ? cursor - start : 0) / Double(head - start))
    }
}

/// A rep's replica: the SQLite store in the replica home, local edits checked with the core
/// rules, and the sync engine (push the outbox, pull pages, verify the checkpoint).
public final class Replica {
    public let home: String
    public let store: ReplicaStore
    public internal(set) var workspace: Workspace
    public internal(set) var id: ReplicaID
    public let user: UserName
    public internal(set) var role: String
    public private(set) var hubURL: String
    var token: String
    /// A PEM file of certificates to trust for the hub besides the system's (`--ca`).
    public private(set) var caFile: String?
    var clock: HybridLogicalClock
    let physical: any PhysicalClock
    /// Writes per push batch.
    public var batchSize = 500
    /// Changes per pull page asked for.
    public var pageSize: UInt32 = 2000
    /// The hub's users' names as last read from the store (`userNames()`).
    var namesRead: UserNames?
    /// The short ids as last read, with the store's change mark then (`shortIDs()`).
    var shortIDsRead: (mark: [Int64], extent: (count: Int, lastRow: Int64), codes: ShortIDs)?
    /// How many times every id was read for them (the rest were additions to the codes held).
    var shortIDsReadWhole = 0

    public static func databasePath(home: String) -> String { home + "/replica.sqlite" }

    /// Opens the replica in `home`.
    public init(home: String, clock: any PhysicalClock) throws {
        self.home = home
        guard FileManager.default.fileExists(atPath: Self.databasePath(home: home)) else { throw ReplicaError.notInitialised(home) }
        do {
            store = try ReplicaStore(path: Self.databasePath(home: home))
        } catch let e as StoreError where e.code == StoreError.newerSchema {
            // A newer opps opened this replica (and changed its file); this one cannot read it.
            throw ReplicaError.invalid(
                // Two lines: the folder's path may be long, what to do stays within 80 columns.
                "the replica in \(home) was written by a newer opps:\nrun that version of opps (or a later one); your work is kept there",
                chinese: "\(home) 里的副本是更新版本的 opps 写的：\n请用那个版本（或更新的）opps 打开；本机的工作都保留着")
        }
        guard let idText = try store.meta("replica"), let id = ReplicaID(parsing: idText), let user = try store.meta("user"),
            let role = try store.meta("role"), let hub = try store.meta("hub_url"), let token = try store.meta("token"),
            let document = try store.meta("workspace")
        else { throw ReplicaError.notInitialised(home) }
        self.id = id
        self.user = user
        self.role = role
        self.hubURL = hub
        self.token = token
        self.caFile = try store.meta("ca_file").flatMap { $0.isEmpty ? nil : $0 }
        do { workspace = try Workspace.decode(document) } catch { throw ReplicaError.invalid("the stored workspace is invalid") }
        try store.indexParents(workspace: workspace)
        self.clock = HybridLogicalClock(last: HLC(rawValue: try store.sync(.hlc)))
        physical = clock
    }

    /// Where a replica keeps the device time of its last verified sync: none until its first
    /// full sync (`opps init`'s) has finished.
    public static let lastSyncKey = "last_sync"

    /// The replica in `home` whose first full sync was cut short (`opps init` interrupted: Ctrl-C,
    /// a dropped link) and was made with this hub URL and token — `opps init` run again carries
    /// it on — or nil when there is none such (no replica, one synced once, other settings).
    public static func unfinished(home: String, hubURL: String, token: String, clock: any PhysicalClock) throws -> Replica? {
        guard FileManager.default.fileExists(atPath: databasePath(home: home)), let held = try? Replica(home: home, clock: clock),
            try held.store.meta(lastSyncKey) == nil, held.hubURL == hubURL, held.token == token
        else { return nil }
        return held
    }

    /// Creates a replica in `home`: handshake with the hub (which names the user and sends the
    /// workspace); nothing is written when the hub refuses.
    public static func create(
        home: String, hubURL: String, token: String, caFile: String? = nil, transport: any Transport, clock: any PhysicalClock,
        id given: ReplicaID? = nil
    ) async throws -> Replica {
        let path = databasePath(home: home)
        if FileManager.default.fileExists(atPath: path) {
            // Whose, and what to type for what the user came to do (not only a new token).
            guard let held = try? Replica(home: home, clock: clock) else {
                throw ReplicaError.invalid("\(home) already holds a replica", chinese: "\(home) 里已经有副本：换用新令牌请用 opps connect --token")
            }
            if try held.store.meta(Self.lastSyncKey) == nil {
                throw ReplicaError.invalid(
                    "\(home) holds \(held.user)'s replica, whose first sync did not finish: opps init with its hub URL and token carries it on, or give another --home",
                    chinese: "\(home) 里有 \(held.user) 的副本，它的第一次同步没有完成：用原来的服务器地址和令牌再运行 opps init 会接着同步，或换一个 --home")
            }
            throw ReplicaError.invalid(
                "\(home) already holds \(held.user)'s replica: opps sync syncs it; for a new token or hub URL, opps connect",
                chinese: "\(home) 里已经有 \(held.user) 的副本：同步用 opps sync；换令牌或服务器地址用 opps connect")
        }
        var rng = SystemRandomNumberGenerator()
        let id = given ?? ReplicaID.random(using: &rng)
        let response = try await handshake(transport: transport, token: token, replica: id, workspaceVersion: 0)
        guard !response.workspace.isEmpty else { throw ReplicaError.hub("the hub sent no workspace") }
        let (_, document) = try readable(response.workspace, atInit: true)
        do {
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let store = try ReplicaStore(path: path)
            try store.transaction {
                for (k, v) in [
                    ("replica", id.description), ("user", response.user), ("role", response.role), ("hub_url", hubURL), ("token", token),
                    ("workspace", document), ("hub", UUID128(bytes: response.hub)?.description ?? ""), ("batch", "0"), ("cursor", "0"),
                    ("ca_file", caFile ?? ""),
                ] + protocolMeta(settled: response.version) {
                    try store.setMeta(k, v)
                }
            }
            // The token is a secret: only the user may read the database.
            chmod(path, 0o600)
            // The file this replica is made in: a copy of the folder has another (§5.5).
            if let file = fileNumber(home: home) { try store.setMeta(fileNumberKey, file) }
        } catch {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            throw error
        }
        return try Replica(home: home, clock: clock)
    }

    /// Points this replica at a new hub URL, token or CA file, keeping everything it holds and
    /// every pending write (a rotated token, a hub that moved, a private CA). The new settings
    /// are checked first: the hub must accept the token for this replica's own user and be the
    /// same hub; nothing changes when it does not.
    public func connect(hubURL newURL: String?, token newToken: String?, caFile newCA: String?, transport: any Transport) async throws {
        let token = newToken ?? self.token
        let response = try await Self.handshake(transport: transport, token: token, replica: id, workspaceVersion: workspace.version)
        guard response.user == user else {
            throw ReplicaError.invalid(
                "that token is \(response.user)'s; this replica holds \(user)'s work: use \(user)'s token",
                chinese: "这个令牌属于 \(response.user)；本机副本保存的是 \(user) 的工作：请用 \(user) 的令牌")
        }
        if let known = try store.meta("hub"), !known.isEmpty, let hub = UUID128(bytes: response.hub), hub.description != known {
            throw ReplicaError.invalid(
                "that URL is another hub (\(hub)); this replica syncs with \(known)", chinese: "这个地址是另一个服务器（\(hub)）；本机副本与 \(known) 同步")
        }
        try store.transaction {
            if let newURL { try store.setMeta("hub_url", newURL) }
            if let newToken { try store.setMeta("token", newToken) }
            if let newCA { try store.setMeta("ca_file", newCA) }
            // What this hub speaks, as it said it to the new settings.
            for (k, v) in Self.protocolMeta(settled: response.version) { try store.setMeta(k, v) }
        }
        if let newURL { hubURL = newURL }
        self.token = token
        if let newCA { caFile = newCA.isEmpty ? nil : newCA }
    }

    static func handshake(transport: any Transport, token: String, replica: ReplicaID, workspaceVersion: UInt64) async throws -> HandshakeResponse {
        var h = HandshakeRequest()
        h.minVersion = ProtocolVersion.minimum
        h.maxVersion = ProtocolVersion.current
        h.replica = Data(replica.bytes)
        h.client = "opps/0.1.0"
        h.workspaceVersion = workspaceVersion
        return try await call(transport, Endpoint.handshake, h, token: token, as: HandshakeResponse.self)
    }

    static func call<In: SwiftProtobuf.Message, Out: SwiftProtobuf.Message>(
        _ t: any Transport, _ endpoint: String, _ m: In, token: String, as: Out.Type
    ) async throws -> Out {
        let body: [UInt8]
        do { body = try BodyCodec.encode(m, as: .protobuf) } catch { throw ReplicaError.hub("this laptop could not write its request: \(error.message)") }
        return try await send(t, endpoint, body: body, token: token, as: Out.self)
    }

    /// Sends a request's bytes as they are; the transport's failures as the replica's errors.
    static func send<Out: SwiftProtobuf.Message>(_ t: any Transport, _ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws -> Out {
        try await answer { () async throws(TransportError) -> Out in try await t.send(endpoint, body: body, token: token, as: Out.self) }
    }

    /// A pull page (whole records left raw where the transport can: `Transport.pull`).
    static func pull(_ t: any Transport, _ request: PullRequest, token: String) async throws -> PulledPage {
        let body: [UInt8]
        do { body = try BodyCodec.encode(request, as: .protobuf) } catch { throw ReplicaError.hub("this laptop could not write its request: \(error.message)") }
        return try await answer { () async throws(TransportError) -> PulledPage in try await t.pull(body: body, token: token) }
    }

    /// What the transport answered; its failures as the replica's errors.
    static func answer<Out>(_ body: () async throws(TransportError) -> Out) async throws -> Out {
        do {
            return try await body()
        } catch {
            switch error {
            case let .unreachable(why): throw ReplicaError.unreachable(why)
            case let .certificate(why): throw ReplicaError.certificate(why)
            case let .refused(status, e): throw refusal(status: status, e)
            case let .unsendable(e): throw ReplicaError.hub("this laptop could not write its request: \(e.message)")
            case let .notAHub(status): throw ReplicaError.wrongAddress(.notAHub(status: status))
            case let .speaksHTTP(url): throw ReplicaError.wrongAddress(.speaksHTTP(url))
            }
        }
    }

    /// A hub's refusal as the replica's error (a whole request's, or a carried pull's).
    static func refusal(status: Int, _ e: WireError) -> ReplicaError {
        switch e.code {
        case .userDisabled: .disabled(e.message)
        case .unauthenticated: .authentication(e.message)
        case .replicaNotYours: .invalid("the hub says this replica belongs to another user: that token is someone else's", chinese: "服务器说本机副本属于另一个用户：这个令牌是别人的")
        default: .hubRefused(status: status, e)
        }
    }
}

/// What `Replica.merge` did here: fields filled in on the record kept, records re-pointed, and
/// records whose reference only the hub may change (it does, for every record, at sync).
public struct MergeResult: Sendable, Hashable {
    public var filled: [String] = []
    public var repointed = 0
    public var leftToHub = 0
}
