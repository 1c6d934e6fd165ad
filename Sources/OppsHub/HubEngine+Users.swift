import Foundation
import OppsCore
import OppsStore
import OppsWire

/// The hub's directory: users, their roles and places, and their tokens (operator commands).
extension HubEngine {
    // MARK: Users

    /// Adds a user and returns their token (shown once; only its hash is stored).
    public func addUser(_ user: HubUser, rng: inout some RandomNumberGenerator) throws -> String {
        if let refusal = try refusals(user, alongside: nil).first { throw refusal.error }
        let token = Token.generate(using: &rng)
        try store.transaction { try insert(user, token: token) }
        directoryMarker = nil
        return token
    }

    /// Why each of `users` (a file's rows, numbered as the file numbers them) cannot be added:
    /// what `addUser` refuses, a name given twice, and a manager who is neither a user nor one of
    /// the rows. Empty: `addUsers` will take them all.
    public func problemsAdding(_ users: [(row: Int, user: HubUser)]) throws -> [ImportProblem] {
        try refreshDirectory()
        // Each row's manager, by the row's name (the first row of a name given twice).
        var named = [UserName: UserName?]()
        for (_, user) in users where named[user.name] == nil { named[user.name] = .some(user.manager) }
        var seen = Set<String>()
        var problems = [ImportProblem]()
        for (row, user) in users {
            var refused = try refusals(user, alongside: named)
            if !seen.insert(user.name).inserted {
                refused.append(("name", HubError.invalid("\(user.name) appears on more than one row", chinese: "「\(user.name)」出现在不止一行")))
            }
            problems += refused.map { ImportProblem(row: row, column: $0.column, message: $0.error.message, chinese: $0.error.chinese ?? $0.error.message) }
        }
        return problems
    }

    /// Adds `users` in one transaction (all or none, after `problemsAdding` found nothing) and
    /// returns their tokens in the same order. A manager may be a user added here.
    public func addUsers(_ users: [HubUser], rng: inout some RandomNumberGenerator) throws -> [String] {
        let numbered = users.enumerated().map { (row: $0.offset + 1, user: $0.element) }
        if let first = try problemsAdding(numbered).first { throw HubError.invalid(first.description, chinese: first.chineseDescription) }
        let tokens = users.map { _ in Token.generate(using: &rng) }
        try store.transaction {
            for (user, token) in zip(users, tokens) { try insert(user, token: token) }
        }
        directoryMarker = nil
        return tokens
    }

    /// What refuses adding `user`, each with the column it concerns, in the order they are
    /// checked. `rows`: the users added with it from one file, each with its manager (one of them
    /// may be its manager); nil when it is added alone.
    private func refusals(_ user: HubUser, alongside rows: [UserName: UserName?]?) throws -> [(column: String, error: HubError)] {
        var refused = [(column: String, error: HubError)]()
        let validName =
            user.name != Self.systemAuthor && !user.name.isEmpty && user.name.count <= 64
            && user.name.unicodeScalars.allSatisfy { !$0.properties.isWhitespace && $0.value > 0x20 }
        if !validName {
            refused.append(
                ("name", HubError.invalid("user names are 1–64 characters without spaces, and \"hub\" is reserved", chinese: "用户名是 1–64 个字符，不含空格；「hub」是保留的名称")))
        } else if try store.user(named: user.name) != nil {
            refused.append(("name", Self.userExists(user.name)))
        }
        return try refused + entryRefusals(user, rows: rows)
    }

    /// What refuses `user`'s directory entry as it would be, whether added (`refusals`) or
    /// changed (`updateUser`): an unknown role, a manager who is themselves, no user (nor a row
    /// added with them) or below them (a loop), a negative capacity.
    private func entryRefusals(_ user: HubUser, rows: [UserName: UserName?]?) throws -> [(column: String, error: HubError)] {
        var refused = [(column: String, error: HubError)]()
        // A role by its name or a label (销售顾问, Sales rep), stored by its name.
        if workspace.role(input: user.role) == nil { refused.append(("role", Self.unknownRole(user.role, workspace))) }
        if let m = user.manager {
            if m == user.name {
                refused.append(("manager", Self.selfManaged))
            } else if rows?[m] == nil, try store.user(named: m) == nil {
                refused.append(
                    (
                        "manager",
                        rows == nil
                            ? Self.unknownManager(m)
                            : HubError.invalid("manager \"\(m)\" is neither a user nor a row of this file", chinese: "经理「\(m)」既不是已有的用户，也不在这个文件里")
                    ))
            } else if try manages(user.name, m, rows: rows ?? [:]) {
                refused.append(
                    ("manager", HubError.invalid("\(m) is below \(user.name) already: a manager cannot report to them", chinese: "「\(m)」已经在「\(user.name)」之下：经理不能向下属汇报")))
            }
        }
        if let c = user.capacity, c < 0 { refused.append(("capacity", Self.negativeCapacity)) }
        return refused
    }

    /// Whether `manager` is `user` or above them, walking up from `user` through the managers as
    /// they will be: the rows' over the store's.
    private func manages(_ manager: UserName, _ user: UserName, rows: [UserName: UserName?]) throws -> Bool {
        var seen = Set<UserName>()
        var current: UserName? = user
        while let c = current, seen.insert(c).inserted {
            if c == manager { return true }
            current = try rows[c] ?? store.user(named: c)?.manager
        }
        return false
    }

    /// Writes a checked user, in the caller's transaction: the user (their role by its name),
    /// their token's hash, the audit line. The name is checked again: another hub on the same
    /// store may have added it since.
    private func insert(_ user: HubUser, token: String) throws {
        var user = user
        user.role = workspace.role(input: user.role)?.name ?? user.role
        if try store.user(named: user.name) != nil { throw Self.userExists(user.name) }
        try store.addUser(user, now: now)
        try store.addToken(hash: Token.hash(token), user: user.name, now: now)
        try store.audit(action: "user", subject: user.name, detail: "added as \(user.role)", now: now)
    }

    /// Changes a user's directory entry (role, team, territory, manager, capacity, disabled).
    /// The change is audited; replicas see its effect on visibility at their next pull.
    public func updateUser(_ name: UserName, _ change: (inout HubUser) -> Void) throws -> HubUser {
        try updateUserSayingUnseen(name, change).user
    }

    /// The same, and the live deals (open or closed) someone saw before the change that no
    /// enabled user sees after it (I17), with their owners: a new role, manager or `disabled` can take the last
    /// sight of a deal away — the user's own deals, and deals only they saw through their role
    /// or their place on a team (an ownerless deal its team alone sees). The change stands (a
    /// departing user must be disabled whatever they saw); the operator is told which deals.
    public func updateUserSayingUnseen(_ name: UserName, _ change: (inout HubUser) -> Void) throws -> (user: HubUser, leftUnseen: [UnseenDeal]) {
        defer { directoryMarker = nil }
        return try store.transaction {
            try refreshDirectory()
            guard var user = try store.user(named: name) else { throw Self.noUser(name) }
            let before = user
            change(&user)
            if let refusal = try entryRefusals(user, rows: nil).first { throw refusal.error }
            if let role = workspace.role(input: user.role) { user.role = role.name }
            var leftUnseen = [UnseenDeal]()
            // Who sees a deal follows roles, managers and who is enabled, not capacities.
            var (next, last) = (user.directoryEntry, before.directoryEntry)
            (next.capacity, last.capacity) = (nil, nil)
            if next != last {
                var entries = directory.users
                entries[name] = user.directoryEntry
                leftUnseen = try dealsLeftUnseen(under: workspace, directory: Directory(users: Array(entries.values)))
            }
            try store.updateUser(user)
            var changes = [String]()
            if before.role != user.role { changes.append("role \(before.role) → \(user.role)") }
            if before.team != user.team { changes.append("team \(before.team ?? "-") → \(user.team ?? "-")") }
            if before.territory != user.territory { changes.append("territory \(before.territory ?? "-") → \(user.territory ?? "-")") }
            if before.manager != user.manager { changes.append("manager \(before.manager ?? "-") → \(user.manager ?? "-")") }
            if before.capacity != user.capacity { changes.append("capacity \(before.capacity.map(String.init) ?? "-") → \(user.capacity.map(String.init) ?? "-")") }
            if before.disabled != user.disabled { changes.append(user.disabled ? "disabled" : "enabled") }
            try store.audit(action: "user", subject: name, detail: changes.joined(separator: ", "), now: now)
            return (user, leftUnseen)
        }
    }

    /// After a change to `name` — disabled (merge-semantics.md §7.1, I13: a disabled user may no
    /// longer act), or a new role, manager, team or territory — each approval request of theirs
    /// still pending that no approver could carry out now is settled at once: rejected with the
    /// hub's note (`not applied: sam may no longer change discount of that record`, whatever the
    /// reason: the note is read by whoever sees the deal, visibility.md §5), its values their conflict records, its deal unlocked — written as the hub
    /// and logged like any write, so every replica that sees the deal learns it at its next sync.
    /// A request that still passes its check stays pending; any other request on those deals
    /// that fails it goes too. How many were settled.
    public func settlePendingRequests(of name: UserName) throws -> Int {
        guard let entity = workspace.approvalRequests else { return 0 }
        return try store.transaction {
            try refreshDirectory()
            let hubTime = now
            return try onSharedClock {
                var deals = Set<RecordID>()
                for id in try store.liveRecords(entity: entity) {
                    guard let request = try store.record(id, workspace: workspace), request.creator == name, request["state"] == .member("pending"),
                        case let .reference(deal) = request["opportunity"]
                    else { continue }
                    deals.insert(deal)
                }
                guard !deals.isEmpty else { return 0 }
                var decider = BatchDecider(
                    reader: StoreReader(store: store, workspace: workspace), workspace: workspace, directory: directory, clock: clock,
                    hubReplica: hubReplica, hubTime: hubTime, maxClockAhead: configuration.maxClockAheadMilliseconds)
                var appended = [LogEntry]()
                var settled = 0
                for deal in deals.sorted() {
                    settled += try decider.settleStranded(onDeal: deal)
                    for effect in decider.takeEffects() { try apply(effect, hubTime: hubTime, log: &appended) }
                }
                var changed = [Record]()
                for effect in decider.finish() {
                    if case let .save(record) = effect { changed.append(record) } else { try apply(effect, hubTime: hubTime, log: &appended) }
                }
                try write(appended, changed, hubTime: hubTime, writer: nil)
                clock = decider.clock
                return settled
            }
        }
    }

    /// The open deals `name` owns, and how many of them no enabled user sees: what `user
    /// disable` tells the operator (a departing rep's deals, with no one above the rep, are out of
    /// everyone's reach until someone manages the rep, who can then give them new owners).
    public func ownedOpenDeals(_ name: UserName) throws -> (open: Int, unseen: Int) {
        try refreshDirectory()
        let closed = Set(workspace.stages.filter(\.closed).map(\.name))
        let deals = try store.openRecordColumns(owner: name, closedStages: closed)
        let unseen = try deals.count { deal in
            var team: Set<UserName>?
            return try !seen(deal, under: workspace, team: &team)
        }
        return (deals.count, unseen)
    }

    /// Whether an enabled user sees `deal` (a row of the record index) under `ws`, by the
    /// visibility rule (`Workspace.anyoneSees`). Its team is read only when its owner, creator,
    /// their managers and the roles are not enough, and kept in `team` for a second question.
    func seen(
        _ deal: (id: RecordID, entity: String, owner: UserName?, creator: UserName, stage: String?), under ws: Workspace, directory given: Directory? = nil,
        team: inout Set<UserName>?
    ) throws -> Bool {
        guard let e = ws.entity(deal.entity) else { return true }
        let stage: Value = deal.stage.map { .member($0) } ?? .null
        let directory = given ?? self.directory
        func sees(_ t: Set<UserName>) -> Bool { ws.anyoneSees(recordOf: e, stage: stage, owner: deal.owner, creator: deal.creator, team: t, directory: directory) }
        if sees([]) { return true }
        let members = try team ?? store.team(of: deal.id)
        team = members
        return sees(members)
    }

    /// Revokes every token of a user and issues a new one (shown once).
    public func rotateToken(_ name: UserName, rng: inout some RandomNumberGenerator) throws -> String {
        let token = Token.generate(using: &rng)
        // The old token must not be served from the token cache: re-read the directory.
        defer { directoryMarker = nil }
        try store.transaction {
            guard try store.user(named: name) != nil else { throw Self.noUser(name) }
            try store.revokeTokens(user: name)
            try store.addToken(hash: Token.hash(token), user: name, now: now)
            try store.audit(action: "token", subject: name, detail: "rotated", now: now)
        }
        return token
    }

    // What the operator is told, in English and Chinese.
    static func noUser(_ name: UserName) -> HubError {
        HubError.invalid("no user \"\(name)\" (opps-hub user list shows who exists)", chinese: "没有用户「\(name)」（opps-hub user list 列出所有用户）")
    }
    static func unknownRole(_ role: String, _ workspace: Workspace) -> HubError {
        let roles = workspace.roles.map(\.name), words = Vocabulary(workspace, locale: "zh-CN")
        return HubError.invalid(
            "unknown role \"\(role)\" (\(roles.joined(separator: ", ")))",
            chinese: "没有角色「\(role)」（角色有：\(roles.map { words.withName(words.role($0), $0) }.joined(separator: "、"))）")
    }
    static func unknownManager(_ name: UserName) -> HubError {
        HubError.invalid("unknown manager \"\(name)\"", chinese: "经理「\(name)」不是已有的用户")
    }
    static let negativeCapacity = HubError.invalid("capacity must be 0 or more", chinese: "容量必须是 0 或更大")
    static let selfManaged = HubError.invalid("a user cannot manage themselves", chinese: "用户不能是自己的经理")
    static func userExists(_ name: UserName) -> HubError { HubError.invalid("user \"\(name)\" already exists", chinese: "用户「\(name)」已经存在") }
}

/// A live deal a user change left in no one's sight (`updateUserSayingUnseen`).
public struct UnseenDeal: Sendable, Hashable {
    public var id: RecordID
    public var owner: UserName?
}
