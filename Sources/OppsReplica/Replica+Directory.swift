import Foundation
import OppsCore
import OppsStore

/// Making a deal, and the account or contact it names, as `opps new` and the web app's form
/// both do: one rule for what a typed account is, and when a new one would be a duplicate.
extension Replica {
    /// A new opportunity owned by this user, with its account (an id, a short id or an exact
    /// name here, else a new account of that name: `findOrCreate`), in one local transaction.
    /// Amount, currency and close date as typed (`parse`), then `fields` (already parsed: `opps new
    /// NAME 赢率=50`), each field given once; all of it checked by the rules as one edit, so a
    /// refusal makes nothing; a field this user may only propose goes to an approver, as `edit`
    /// sends it (the result says which). A rep's deal starts at discovery; another role's at the
    /// last stage it may create one in.
    ///
    /// Refused (`.lookup(.likelyDuplicate)`, nothing made) when the account already has an open
    /// deal here whose name is likely the same (`Duplicates.key`: any case, width, spaces and
    /// punctuation) — the same command typed twice, or a deal a colleague made already: a rep
    /// may not delete one once synced. `allowDuplicate` makes it anyway; closed deals (a won
    /// "续约" of last year) never count.
    public func newOpportunity(
        name: String, account: String, amount: String? = nil, currency: String? = nil, close: String? = nil,
        fields more: [(String, Value)] = [], allowDuplicate: Bool = false, using rng: inout some RandomNumberGenerator
    ) throws -> EditResult {
        guard let entity = workspace.entity("opportunity") else { throw ReplicaError.invalid("no opportunity in this workspace") }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ReplicaError.invalid("an opportunity needs a name", chinese: "商机需要一个名称")
        }
        guard !account.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ReplicaError.invalid("an opportunity needs an account", chinese: "商机需要填写客户")
        }
        guard let stage = entity.create[role]?.last else {
            throw ReplicaError.refused(entity: "opportunity", field: "opportunity", rule: .createNotPermitted, detail: "\(role) may not create opportunities")
        }
        return try store.transaction {
            let (accountID, madeAccount) = try findOrMake(entity: "account", text: account, using: &rng)
            if !madeAccount, !allowDuplicate { try refuseLikelyDuplicateDeal(named: name, at: accountID) }
            var fields: [(String, Value)] = [("name", .text(name)), ("account", .reference(accountID))]
            let typed = [("amount", amount), ("currency", currency), ("close_date", close)].compactMap { field, text -> (field: Field, text: String)? in
                guard let text, !text.isEmpty, let f = entity.field(field) else { return nil }
                return (f, text)
            }
            fields += try parse(typed, of: entity.name)
            for (field, value) in more {
                if let same = fields.first(where: { $0.0 == field }) {
                    // `--amount 5万美元 币种=美元` says it twice alike; another currency is a clash.
                    if same.1 == value { continue }
                    if field == "currency", currency == nil, let amount { throw currencyClash(amount: amount, in: same.1, given: value, of: entity.name) }
                    let label = entity.field(field).map { $0.labels["zh-CN"] ?? $0.name } ?? field
                    throw ReplicaError.invalid("\(field) is given twice", chinese: "\(label)给了两次")
                }
                fields.append((field, value))
            }
            var made = try create(entity: "opportunity", stage: role == "sales" ? "discovery" : stage, fields: fields, using: &rng)
            made.madeAccount = madeAccount ? accountID : nil
            return made
        }
    }

    /// Refuses a new deal (or lead) of `account` named `name` when the account has an open deal
    /// here whose name is likely the same (`Duplicates.key`), naming the first such by id:
    /// `.lookup(.likelyDuplicate)` (`newOpportunity`, `opps lead add`).
    public func refuseLikelyDuplicateDeal(named name: String, at account: RecordID) throws {
        guard let key = Duplicates.dealKey(account: .reference(account), name: .text(name)) else { return }
        let same = try store.first(entity: "opportunity", stages: openStages, naming: account, workspace: workspace) {
            !$0.isDeleted && Duplicates.dealKey(account: $0["account"], name: $0["name"]) == key
        }
        guard let same else { return }
        throw try lookup(.likelyDuplicate, typed: name, [same.id])
    }

    /// The open deals here that look made twice — the same account, a name that looks the same
    /// (`Duplicates.dealKey`, the rule `refuseLikelyDuplicateDeal` refuses a second one by) — in
    /// groups of two or more: made on two laptops offline (a rep's and their manager's), or on
    /// purpose with `--allow-duplicate`. Each group furthest stage first (the one to keep, most
    /// often), then oldest; the groups by their first. Read one deal at a time: only the groups'
    /// deals are held.
    public func likelyDuplicateDeals() throws -> [[Record]] {
        var byKey = [String: [RecordID]]()
        try store.forEach(entity: "opportunity", stages: openStages, workspace: workspace) { deal in
            if let k = Duplicates.dealKey(account: deal["account"], name: deal["name"]) { byKey[k, default: []].append(deal.id) }
        }
        let deals = try byKey.values.filter { $0.count > 1 }.flatMap { $0 }.compactMap { try record($0) }
        return Duplicates.dealGroups(deals, by: keepFirst)
    }

    /// The open deals here that `deal` looks made twice with (its group in
    /// `likelyDuplicateDeals`, without it), in the same order; none for a closed or deleted deal. Only its
    /// account's deals are read (`forEach(naming:)`): a deal's page asks it.
    public func likelyDuplicates(of deal: Record) throws -> [Record] {
        guard !deal.isDeleted, case let .reference(account) = deal["account"], let key = Duplicates.dealKey(account: deal["account"], name: deal["name"]),
            openStages.contains(deal["stage"].canonicalText)
        else { return [] }
        var same: [Record] = []
        try store.forEach(entity: "opportunity", stages: openStages, naming: account, workspace: workspace) {
            if $0.id != deal.id, Duplicates.dealKey(account: $0["account"], name: $0["name"]) == key { same.append($0) }
        }
        return same.sorted(by: keepFirst)
    }

    /// Whether this user merges deals made twice (`merge`): one who may delete them, as the
    /// merge's own delete decides (a manager, in the default workspace).
    public var mayMergeDeals: Bool { workspace.entity("opportunity")?.delete.contains(role) == true }

    /// The order of a group of deals made twice: furthest stage first (the one to keep), then
    /// the oldest.
    var keepFirst: (Record, Record) -> Bool {
        let rank = Dictionary(workspace.stages.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        return { a, b in
            let (x, y) = (rank[a["stage"].canonicalText] ?? -1, rank[b["stage"].canonicalText] ?? -1)
            return x != y ? x > y : a.created.stamp < b.created.stamp
        }
    }

    /// The groups of `likelyDuplicateDeals` that a sync made: those holding an open deal another
    /// user made that it brought here. Only those deals' accounts are looked at (their deals found
    /// by `ReplicaStore.forEach(naming:)`); a sync that brought more new records than its report
    /// keeps (20) looks at every group.
    public func duplicateDeals(broughtBy report: SyncReport) throws -> [[Record]] {
        guard report.newRecordCount > 0 else { return [] }
        if report.newRecordCount > report.newRecords.count { return try likelyDuplicateDeals() }
        let open = Set(openStages)
        let brought = try report.newRecords.compactMap { try record($0) }.filter {
            $0.entity == "opportunity" && !$0.isDeleted && open.contains($0["stage"].canonicalText) && Duplicates.dealKey(account: $0["account"], name: $0["name"]) != nil
        }
        var groups: [[Record]] = []
        for case let .reference(account) in Set(brought.map { $0["account"] }) {
            var deals: [Record] = []
            try store.forEach(entity: "opportunity", stages: openStages, naming: account, workspace: workspace) {
                if $0["account"] == .reference(account) { deals.append($0) }
            }
            groups += Duplicates.dealGroups(deals, by: keepFirst).filter { g in g.contains { d in brought.contains { $0.id == d.id } } }
        }
        return groups.sorted { keepFirst($0[0], $1[0]) }
    }

    /// The stages a deal is open in.
    var openStages: [String] { workspace.stages.filter { !$0.closed }.map(\.name) }

    /// An account or contact given as an id, a short id or an exact name, or a name for a new
    /// one, made with `extra` fields. Made only when nothing here is likely the same
    /// (`refuseLikelyDuplicate`: a second "Omega" made offline is what a manager would have to
    /// merge later) and no name here contains it ("云帆" for 苏州云帆物流有限公司: most likely one
    /// of them was meant, so none is guessed: the lookup names them).
    public func findOrCreate(entity: String, text: String, extra: [(String, Value)] = [], using rng: inout some RandomNumberGenerator) throws -> RecordID {
        try findOrMake(entity: entity, text: text, extra: extra, using: &rng).id
    }

    /// The same, and whether the record was made now (a rep is told a new account was made,
    /// not only that the deal was).
    public func findOrMake(
        entity: String, text: String, extra: [(String, Value)] = [], using rng: inout some RandomNumberGenerator
    ) throws -> (
        id: RecordID, made: Bool
    ) {
        if let id = try? resolveID(text, among: [entity]), try record(id)?.entity == entity { return (id, false) }
        let existing = try store.list(entity: entity, workspace: workspace)
        for e in existing where e["name"] == .text(text) { return (e.id, false) }
        try refuseLikelyDuplicate(entity: entity, [("name", .text(text))] + extra, among: existing)
        let folded = text.lookupFolded
        let containing = existing.filter { !folded.isEmpty && $0["name"].canonicalText.lookupFolded.contains(folded) }
        if !containing.isEmpty { throw try lookup(.partOfName, typed: text, containing.map(\.id)) }
        return (try create(entity: entity, stage: nil, fields: [("name", .text(text))] + extra, using: &rng).record, true)
    }

    /// Refuses a new record of `entity` with `fields` that would likely duplicate one of
    /// `existing` (Duplicates.likely), naming it: `.lookup(.likelyDuplicate)`.
    public func refuseLikelyDuplicate(entity: String, _ fields: [(String, Value)], among existing: [Record]) throws {
        guard let match = Duplicates.likely(Dictionary(fields, uniquingKeysWith: { a, _ in a }), among: existing).first else { return }
        let name = fields.first { $0.0 == "name" }?.1.canonicalText ?? ""
        throw try lookup(.likelyDuplicate, typed: name, [match.id])
    }
}
