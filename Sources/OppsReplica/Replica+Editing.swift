import Foundation
import OppsConsole
import OppsCore
import OppsStore
import OppsWire
import SwiftProtobuf

/// Reading and editing offline: every change checked with the core rules, kept in the outbox.
extension Replica {
    // MARK: Reading

    /// The short ids of everything this laptop holds (`ShortIDs`): what commands print. Read
    /// once while nothing changes (a manager's `opps show` asked for them four times, each a
    /// read of every id the laptop holds).
    public func shortIDs() throws -> ShortIDs {
        let mark = try store.changeMark()
        if let c = shortIDsRead, c.mark == mark { return c.codes }
        // Written by this connection alone since (another's write moves `data_version`): when
        // the only change to the table is records added (an edit in the web app, a deal, an
        // activity), those are added to the codes held, not every id read again.
        if let c = shortIDsRead, c.mark.first == mark.first {
            let extent = try store.idExtent()
            let added = try store.ids(afterRow: c.extent.lastRow)
            if extent.count == c.extent.count + added.count, extent.lastRow == (added.last?.row ?? c.extent.lastRow) {
                let codes = c.codes.adding(added.map(\.id))
                shortIDsRead = (mark, extent, codes)
                return codes
            }
        }
        let extent = try store.idExtent()
        let codes = ShortIDs(try store.allIDs())
        shortIDsReadWhole += 1
        shortIDsRead = (mark, extent, codes)
        return codes
    }

    /// Reads the short ids again at the next `shortIDs()` (a benchmark times them from scratch).
    public func forgetShortIDs() { shortIDsRead = nil }

    /// The record a person means (issue 15): a full id; the short id commands print, or 4+ of
    /// its first characters (`7kq2m9xd`, `7KQ2`; look-alikes i, l, o are read as 1, 1, 0); the
    /// exact name of a deal, account or contact (any case; spaces full-width or half, zero-width
    /// characters unseen: `String.lookupFolded`); or 8+ hex digits of the full id
    /// (what older versions printed). Ambiguous input names the candidates. `among`: the entities
    /// whose names are looked at (a command that takes an account names accounts, not deals);
    /// an id is taken whatever its entity, for the caller to check. `reading`: the record is only
    /// to be read, so the one record whose name contains the text is taken too.
    public func resolveID(_ text: String, among entities: [String] = ["opportunity", "account", "contact"], reading: Bool = false) throws -> RecordID {
        if let id = RecordID(parsing: text) { return id }
        let typed = text.trimmingCharacters(in: .whitespaces)
        let short = try shortIDs()
        func lookup(_ kind: RecordLookup, _ ids: [RecordID] = []) throws -> ReplicaError { try self.lookup(kind, typed: typed, ids, short: short) }
        // A whole short id is that record. Fewer characters that begin one of the entities asked
        // for are too; any other prefix waits for the names: `opps account show Acme` on a laptop
        // with 100,000 deals met a deal whose short id begins ACME.
        var byCode = [RecordID]()
        if let code = ShortID.normalise(typed), code.count >= 4 {
            byCode = short.matching(code)
            if byCode.count == 1 {
                let entity = try record(byCode[0])?.entity ?? ""
                if code.count >= ShortID.length || entities.contains(entity) { return byCode[0] }
            }
            if byCode.count > 1, code.count >= ShortID.length { throw try lookup(.sameCode, byCode) }
        }
        let folded = typed.lookupFolded
        // The name without its spaces too: `华为云迁移` is "华为 云迁移" (Chinese is written without
        // them, and the space a colleague put in is not something a rep remembers).
        let bare = folded.filter { $0 != " " }
        var named = [RecordID](), containing = [RecordID](), spacedAlike = [RecordID]()
        // One record at a time: a manager's laptop may hold 100,000 deals.
        for entity in entities where workspace.entity(entity)?.field("name") != nil {
            // Each record's name alone, not the record (a manager's laptop: 150,000 of them).
            try store.forEachValue(entity: entity, field: "name", newestFirst: true, workspace: workspace) { id, value in
                let name = (value ?? .null).canonicalText.lookupFolded
                if name == folded {
                    named.append(id)
                } else if !folded.isEmpty, name.contains(folded) {
                    containing.append(id)
                } else if !bare.isEmpty, name.contains(" "), name.filter({ $0 != " " }) == bare {
                    spacedAlike.append(id)
                }
            }
        }
        if named.count == 1 { return named[0] }
        if named.count > 1 { throw try lookup(.sameName, named) }
        if spacedAlike.count == 1 { return spacedAlike[0] }
        if spacedAlike.count > 1 { throw try lookup(.sameName, spacedAlike) }
        // No name is it: the short id it begins after all.
        if byCode.count == 1 { return byCode[0] }
        if byCode.count > 1 { throw try lookup(.sameCode, byCode) }
        let hex = folded.filter { $0 != "-" }
        if hex.count >= 8, hex.allSatisfy(\.isHexDigit) {
            let matches = try store.ids(prefix: hex)
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 { throw try lookup(.sameIDPrefix, matches) }
        }
        // The exact name of a record of another entity (`opps account show 李伟`, a contact): taken,
        // for the caller's "is not an account", which says more than "no such record".
        let others = ["opportunity", "account", "contact"].filter { !entities.contains($0) && workspace.entity($0)?.field("name") != nil }
        var elsewhere = [RecordID]()
        for entity in others {
            try store.forEachValue(entity: entity, field: "name", newestFirst: true, workspace: workspace) { id, value in
                if (value ?? .null).canonicalText.lookupFolded == folded { elsewhere.append(id) }
            }
        }
        if elsewhere.count == 1 { return elsewhere[0] }
        // Part of a name (`opps set 东方物流 …` for "东方物流 CRM 上线"): never taken as the record
        // an edit lands on (it must not land on a guess), but the records it could mean are
        // named. Only to read it (`reading`: show, history, a list of its tasks), the one record
        // whose name holds it is the one meant; what is shown names it in full.
        if reading, containing.count == 1 { return containing[0] }
        if !containing.isEmpty { throw try lookup(.partOfName, containing) }
        throw try notHere(typed, short: short)
    }

    /// The error for an id, short id or name that names nothing this laptop holds: a deal a
    /// sync took off it is said as such, with why and when (`ReplicaStore.takenOff`: the sync
    /// printed its name, and its id is what a rep types back); anything else is
    /// `lookup(.unknown)`. Its name is not kept: it is no longer this user's to read.
    public func notHere(_ typed: String, short: ShortIDs? = nil) throws -> ReplicaError {
        let typed = typed.trimmingCharacters(in: .whitespaces)
        let full = RecordID(parsing: typed)
        let code = ShortID.normalise(typed)
        let hex = typed.lowercased().filter { $0 != "-" }
        let matches = try store.takenOff().filter { entry in
            if let full { return entry.id == full }
            if let code, code.count >= 4, ShortID.code(of: entry.id, startsWith: code) { return true }
            return hex.count >= 8 && hex.allSatisfy(\.isHexDigit) && entry.id.description.lowercased().filter { $0 != "-" }.hasPrefix(hex)
        }
        guard matches.count == 1, let gone = matches.first else { return try lookup(.unknown, typed: typed, [], short: short) }
        let shown = ShortID.shown(gone.id), when = LocalTime.minute(gone.at)
        // Two lines, each within 80 columns in either language: what happened, then why.
        let (english, chinese) =
            switch gone.reason {
            case .left: ("that deal is no longer yours to see (its owner or team changed)", "你不再能看到这个商机（负责人或团队有变化）")
            case .madeHere: ("it was made here; on the hub it was deleted, or is not yours to see", "它在本机新建，服务器上已被删除或你无权查看")
            case .away: ("while this laptop was away, it was deleted or became not yours to see", "在你离开期间它已被删除或你已无权查看")
            }
        return .invalid(
            "\(shown) was taken off this laptop by the sync of \(when):\n\(english)",
            chinese: "\(shown) 已在 \(when) 的同步中从本机移除：\n\(chinese)")
    }

    /// The error naming the records `typed` could mean (the first five, by short id, entity and
    /// name): what `resolveID` throws, and what a command that finds none exactly throws too.
    public func lookup(_ kind: RecordLookup, typed: String, _ ids: [RecordID], short: ShortIDs? = nil) throws -> ReplicaError {
        let short = try short ?? shortIDs()
        let records = try ids.prefix(5).map { try record($0) }
        var candidates = zip(ids, records).map { id, r in
            RecordCandidate(code: short(id), entity: r?.entity ?? "?", name: r.flatMap { $0["name"].isNull ? nil : $0["name"].canonicalText })
        }
        // Candidates of one name are told apart by their stage and account (a rep picking one of
        // three "恒远物流 客服升级" by id alone had nothing to pick by).
        let names = candidates.compactMap { $0.name?.lowercased() }
        for (i, r) in records.enumerated() {
            // A deal a new one likely duplicates is named with both too: the message says where it is.
            guard let r, let name = candidates[i].name?.lowercased(), names.count(where: { $0 == name }) > 1 || kind == .likelyDuplicate && r.entity == "opportunity"
            else { continue }
            if let sf = workspace.entity(r.entity)?.stageField, case let .member(stage) = r[sf] { candidates[i].stage = stage }
            if case let .reference(account) = r["account"] { candidates[i].account = try record(account).flatMap { $0["name"].isNull ? nil : $0["name"].canonicalText } }
        }
        return .lookup(kind, typed: typed, candidates: candidates, count: ids.count)
    }

    public func record(_ id: RecordID) throws -> Record? { try store.view(id, workspace: workspace) }

    /// Fields of mine waiting to sync, per record.
    public func pendingFields(_ id: RecordID) throws -> Set<String> {
        Set(try store.outbox(replica: self.id, author: user, record: id).map(\.write.field))
    }

    // MARK: Local edits

    func relations(to record: Record) throws -> Set<Relation> {
        var team = Set<UserName>()
        if let rule = workspace.teamRule {
            team = rule.team(of: record.id, among: try store.children(of: record.id, entity: rule.entity, workspace: workspace))
        }
        var r = workspace.relations(of: user, to: record, team: team, manages: { _ in false })
        // The hub only sends a manager records they manage: one that came from the hub is managed.
        if workspace.role(role)?.sees.contains(.relation(.managed)) == true, try store.confirmed(record.id, workspace: workspace) != nil,
            record.owner != user
        {
            r.insert(.managed)
        }
        return r
    }

    /// Whether a write refused as read-only would be allowed were the record assigned to the
    /// user (the relation `assignee`): it is someone else's, and says so.
    func mayWriteOnceAssigned(_ context: RuleContext, entity: Entity, field: String) -> Bool {
        guard entity.assignedTo != nil, !context.relations.contains(.assignee), let f = entity.field(field) else { return false }
        return workspace.permission(actor: context.actor, relations: context.relations.union([.assignee]), stage: context.stage, entity: entity, field: f) >= .propose
    }

    func tick() throws -> Stamp {
        let stamp = Stamp(hlc: clock.tick(physical: physical.nowMilliseconds()), replica: id)
        try store.setSync(.hlc, clock.last.rawValue)
        return stamp
    }

    /// The hub's users' names as the last sync that carried them left them here (protocol 6,
    /// sync-protocol.md §6.2 `users`); nil when no sync has (a hub of an older protocol): then
    /// a user field's value is not checked here, only at the hub. Read again when another
    /// process (a sync while the web app runs) stored a newer list.
    public func userNames() throws -> UserNames? {
        guard let digest = try store.meta("directory").flatMap(UInt64.init), digest != 0 else { return nil }
        if let known = namesRead, known.digest == digest { return known }
        let listed = try store.meta("users") ?? ""
        let names = UserNames(received: listed.isEmpty ? [] : listed.split(separator: "\n").map(String.init), digest: digest)
        namesRead = names
        return names
    }

    /// Refuses `name` typed for a user (a filter's `--owner`, a field of `entity`) when the
    /// hub's users' names are here and it is none of them; nothing is checked without them.
    public func requireUser(_ name: String, entity: String, field: String) throws {
        guard let names = try userNames(), !names.contains(name) else { return }
        throw Self.notAUser(name, entity: entity, field: field, names: names)
    }

    /// A name that is no user's, with the names it could mean (or, on a small hub, all of them).
    static func notAUser(_ name: String, entity: String, field: String, names: UserNames) -> ReplicaError {
        let close = names.close(to: name)
        return .badValue(entity: entity, field: field, .user(close: close, all: close.isEmpty && names.names.count <= 12 ? names.names : []), text: name)
    }

    /// Parses the FIELD=VALUE pairs of one edit of `entity` (`parse`, each). A deal's amount typed
    /// with its currency (`ExactDecimal.typedWithCurrency`: `35万元`, `5,000 USD`, `US$5,000`) sets
    /// the deal's `currency` too — a code the workspace lacks is refused as the currency field
    /// refuses it — unless the same pairs set the currency: to the same one, it is set once; to
    /// another, the edit is refused (`.invalid`), nothing parsed further.
    public func parse(_ pairs: [(field: Field, text: String)], of entity: String) throws -> [(String, Value)] {
        var parsed = [(String, Value)]()
        var implied: (currency: Value, amount: String)?
        for (field, text) in pairs {
            if let currencyField = currencyField(for: field, of: entity), let typed = ExactDecimal.typedWithCurrency(text), let code = typed.currency {
                let amount = typed.amount
                parsed.append((field.name, .decimal(amount)))
                implied = (try parse(code, for: currencyField, of: entity), text)
            } else {
                parsed.append((field.name, try parse(text, for: field, of: entity)))
            }
        }
        guard let implied else { return parsed }
        if let given = parsed.first(where: { $0.0 == "currency" }) {
            guard given.1 == implied.currency else { throw currencyClash(amount: implied.amount, in: implied.currency, given: given.1, of: entity) }
            return parsed
        }
        return parsed + [("currency", implied.currency)]
    }

    /// An amount typed in one currency beside a currency given as another.
    func currencyClash(amount: String, in currency: Value, given: Value, of entity: String) -> ReplicaError {
        let en = Vocabulary(workspace, locale: nil), zh = Vocabulary(workspace, locale: "zh-CN")
        return .invalid(
            "the amount \(amount) is in \(en.value(entity, "currency", currency)), but the currency is given as \(en.value(entity, "currency", given)): give one of them",
            chinese: "金额「\(amount)」是\(zh.value(entity, "currency", currency))，币种却写的是\(zh.value(entity, "currency", given))：请只写一个")
    }

    /// The currency field of a deal's amount (the pair the board, funnel and forecast total by),
    /// when `field` is that amount.
    func currencyField(for field: Field, of entity: String) -> Field? {
        guard entity == "opportunity", field.name == "amount", let c = workspace.entity(entity)?.field("currency"), case .enumeration = c.type else { return nil }
        return c
    }

    /// Parses a value typed by a user for a field of `entity`: decimals `12000.00` (or as `opps`
    /// prints them, `12,000.00`, or `12万`), dates `YYYY-MM-DD`, users by name, records by id or prefix,
    /// enum members by name or label, `true`/`false` (`yes`/`no`, `是`/`否`), empty = null. A
    /// value the field's type does not take is `ReplicaError.badValue`.
    public func parse(_ text: String, for field: Field, of entity: String) throws -> Value {
        if text.isEmpty || text == "null" { return .null }
        func bad(_ kind: BadValue) -> ReplicaError {
            // A percentage's sign is taken, so the number is what is wrong (`55.5` is not whole),
            // and the reply does not tell to write it without the sign.
            let signed = text.trimmingSpaces.last.map { "%％".contains($0) } ?? false
            let shown = field.unit == .percent && signed && ExactDecimal.typedPercent(text) != nil ? String(text.trimmingSpaces.dropLast()).trimmingSpaces : text
            return .badValue(entity: entity, field: field.name, kind, text: shown)
        }
        // The placeholder of the lines opps prints to type (`先补上：opps set 7dka36sd 客户需求=…`).
        if ["…", "...", "……"].contains(text.trimmingSpaces) { throw bad(.placeholder) }
        // The sign only where the field counts hundredths: `金额=15%` is not an amount of 15.
        func percent(_ text: String) -> ExactDecimal? { field.unit == .percent ? ExactDecimal.typedPercent(text) : nil }
        switch field.type {
        case .text, .user: return .text(text)
        case .integer:
            // Every 64-bit whole number as digits; else as an amount is typed (ExactDecimal.typed:
            // ６０, 1,200, 3万, up to 18 digits), with nothing after the point; a percentage with
            // its sign or without (`40%`, as opps shows it).
            if let i = Int64(text.trimmingSpaces) { return .integer(i) }
            guard let i = (percent(text) ?? ExactDecimal.typed(text))?.rescaled(to: 0)?.units else { throw bad(.wholeNumber) }
            return .integer(i)
        case .decimal:
            // As people type an amount: 1,234,567.50 as opps prints it, ¥120,000, 12万 (ExactDecimal.typed);
            // a percentage with its sign or without (`15%`, `12.5 %`).
            guard let d = percent(text) ?? ExactDecimal.typed(text) else { throw bad(.decimal) }
            return .decimal(d)
        case .date:
            // As people type a date: 2026/12/5, 12-05, 明天 (CivilDate.typed), by the device's day
            // on its own clock (LocalTime: at 07:30 in Beijing, 明天 is the day after Beijing's).
            guard let d = CivilDate.typed(text, today: LocalTime.date(physical.nowMilliseconds())) else { throw bad(.date) }
            return .date(d)
        case .timestamp:
            // In full (2026-12-02T18:57:12Z), or as opps shows a time: 2026-12-02 18:57 on the
            // device's clock (LocalTime), or with UTC or Z after it, in UTC.
            if let t = try? Timestamp(parsing: text) { return .timestamp(t) }
            if let m = text.wholeMatch(of: /([0-9]{4}-[0-9]{2}-[0-9]{2})[ T]([0-9]{2}:[0-9]{2})(:[0-9]{2})?( ?UTC| ?Z)?/),
                let wall = try? Timestamp(parsing: "\(m.1)T\(m.2)\(m.3 ?? ":00")Z")
            {
                guard m.4 == nil else { return .timestamp(wall) }
                // The wall-clock reading less the offset in force then (the first of an hour a
                // clock change repeats, LocalTime.instant).
                return .timestamp(Timestamp(milliseconds: LocalTime.instant(reading: wall.milliseconds)))
            }
            // A day as a date field takes it (yesterday, 昨天, 12-03), with a time of day after it
            // or not (`yesterday 15:00`, `昨天15:00`), or a time alone (today's): on the device's
            // clock. A day without a time is now if it is today, else its noon.
            let now = physical.nowMilliseconds(), today = LocalTime.date(now)
            var day = Substring(text.trimmingSpaces), clock: (hour: Int, minute: Int)?
            if let m = day.wholeMatch(of: /(.*?)\s*([0-9]{1,2}):([0-9]{2})/), let h = Int(m.2), let mi = Int(m.3), h < 24, mi < 60 {
                (day, clock) = (m.1, (h, mi))
            }
            let date = day.isEmpty ? (clock == nil ? nil : today) : CivilDate.typed(String(day), today: today)
            if let date {
                if clock == nil, date == today { return .timestamp(Timestamp(milliseconds: now)) }
                let (h, mi) = clock ?? (12, 0)
                let wall = Int64(date.daysSinceEpoch) * 86_400_000 + Int64(h * 3600 + mi * 60) * 1000
                return .timestamp(Timestamp(milliseconds: LocalTime.instant(reading: wall)))
            }
            throw bad(.time)
        case let .enumeration(members):
            guard let m = field.member(input: text) else { throw bad(.member(members)) }
            return .member(m)
        case .boolean:
            switch text.lowercased() {
            case "true", "yes", "是": return .boolean(true)
            case "false", "no", "否": return .boolean(false)
            default: throw bad(.boolean)
            }
        case let .reference(target):
            // A record of the field's entity this laptop holds (the hub refuses any other, but only
            // at sync: `客户=王建国`, a contact, would read as the deal's account until then).
            let id = try resolveID(text, among: [target])
            guard let r = try record(id), r.entity == target, !r.isDeleted else { throw bad(.record(target)) }
            return .reference(id)
        }
    }

    /// One atomic local edit: every field is checked with the core rules against what this
    /// replica holds; if any is refused nothing is written. Fields the user may only propose go
    /// out as proposals and do not change the local view.
    @discardableResult
    public func edit(_ id: RecordID, _ changes: [(String, Value)]) throws -> EditResult {
        try store.transaction {
            guard var view = try store.view(id, workspace: workspace) else { throw try self.notHere(id.description) }
            guard let entity = workspace.entity(view.entity) else { throw ReplicaError.invalid("unknown entity \(view.entity)") }
            let pending = try store.outbox(replica: self.id, author: user, record: id)
            let before = view  // what each field held before this edit: the trail's "old"
            var result = EditResult(record: id, applied: [], proposed: [])
            var writes = [(FieldWrite, Bool)]()
            var requests = [(FieldWrite, RuleID)]()
            // A request of mine not yet decided locks as the hub's pending state will.
            let requestPending = try pendingLockingRequest(for: view)
            for (name, value) in changes {
                guard let field = entity.field(name) else {
                    throw ReplicaError.invalid("\(entity.name) has no field \"\(name)\" (fields: \(entity.fields.map(\.name).joined(separator: ", ")))")
                }
                // A value that does not fit its field is refused here, in the user's language (the
                // rules refuse it too, in English).
                if case let .failure(e) = field.normalise(value) {
                    throw ReplicaError.invalid("\(name): \(e.message)", chinese: e.chinese.map { "\(field.labels["zh-CN"] ?? name)：\($0)" })
                }
                // What this laptop already shows is not written again: a save of an unchanged
                // value would be a write that wins or loses against whatever the hub got meanwhile.
                if view[name] == ((try? field.normalise(value).get()) ?? value) {
                    result.unchanged.append(name)
                    continue
                }
                let current = view.fields[name]
                let base: Base
                if let current {
                    base = current.sequence != 0 && !pending.contains(where: { $0.write.field == name }) ? .sequence(current.sequence) : .stamp(current.stamp)
                } else {
                    base = .none
                }
                // A user field names a user of the hub, by the names the last sync brought: the
                // hub's rule `unknown-user`, checked here before the edit is accepted.
                if let names = try userNames(), UserNames.namesUnknownUser(field.type, value, known: names.contains) {
                    throw Self.notAUser(value.canonicalText, entity: entity.name, field: name, names: names)
                }
                let write = FieldWrite(record: id, entity: view.entity, field: name, value: value, base: base, author: user, stamp: try tick())
                // I10: the same rule as the hub, on what this replica holds.
                let context = RuleContext(
                    workspace: workspace, actor: Actor(user: user, role: role), relations: try relations(to: view),
                    record: asSeenByTheRules(view, requestPending: requestPending))
                let decision = resolve(current: current, incoming: write, context: context)
                switch decision.outcome {
                case .applied, .won, .duplicate:
                    var normalised = write
                    normalised.value = decision.winner?.value ?? value
                    writes.append((normalised, true))
                    view.fields[name] = FieldState(value: normalised.value, stamp: write.stamp, author: user, authority: decision.authority)
                    result.applied.append(name)
                case .proposal:
                    if canRequestApproval { requests.append((write, decision.rule)) } else { writes.append((write, false)) }
                    result.proposed.append((name, decision.rule, decision.detail))
                case .rejected where decision.rule == .typeMismatch || decision.rule == .unknownField || decision.rule == .futureTime:
                    throw ReplicaError.invalid(decision.detail)
                case .rejected where decision.rule == .readOnly && mayWriteOnceAssigned(context, entity: entity, field: name):
                    throw ReplicaError.notAssigned(entity: entity.name, field: name)
                case .rejected, .lost:
                    throw ReplicaError.refused(entity: entity.name, field: name, rule: decision.rule, detail: decision.detail, missing: decision.missing)
                }
            }
            // A proposed stage move is decided by an approver later; what its stage needs to be
            // entered (a loss reason) must hold or come with it now, or the approver's yes could
            // not be applied: refused here, with what is missing, as the hub would refuse the move.
            if let move = requests.first(where: { $0.0.field == entity.stageField })?.0, case let .member(to) = move.value {
                let missing = (workspace.stage(to)?.enterRequires ?? []).filter { f in
                    !Workspace.meetsGate(view[f]) && !requests.contains { $0.0.field == f && Workspace.meetsGate($0.0.value) }
                }
                if !missing.isEmpty {
                    throw ReplicaError.refused(
                        entity: entity.name, field: move.field, rule: .stageGate, detail: "entering \(to) needs: " + missing.joined(separator: ", "),
                        missing: missing)
                }
            }
            let confirmed = try store.confirmed(id, workspace: workspace)
            for (w, shown) in writes {
                try store.enqueue(w)
                if shown {
                    try store.addHistory(
                        HistoryLine(
                            record: id, field: w.field, old: before.fields[w.field]?.value ?? .null, new: w.value,
                            author: user, hlc: w.stamp.hlc, source: "local", rule: "pending"))
                }
            }
            try store.save(confirmed: confirmed, view: view, workspace: workspace)
            // One act, one request (DOMAIN.md: losing a deal is one request carrying its loss
            // reason): what a proposed stage move needs to enter its stage goes in the same request.
            // (Only where the request entity has `with`; a value with a line feed gets its own.)
            let move = requests.first { $0.0.field == entity.stageField }?.0
            var gate = Set<String>()
            if let move, case let .member(to) = move.value, let name = workspace.approvals?.requests, workspace.entity(name)?.field("with") != nil {
                gate = Set(workspace.stage(to)?.enterRequires ?? [])
            }
            let carried = requests.map(\.0).filter { gate.contains($0.field) && !$0.value.canonicalText.contains("\n") }
            var made = [FieldWrite: RecordID]()
            for (w, rule) in requests where !carried.contains(w) {
                made[w] = try requestApproval(for: w, rule: rule, on: view, with: w == move ? carried : [])
            }
            // A carried field's request is the stage move's (a gate is only non-empty with one).
            for (w, _) in requests { if let id = made[w] ?? move.flatMap({ made[$0] }) { result.requests.append(id) } }
            return result
        }
    }

    /// Deletes a record (merge-semantics.md §7.2): checked with the core rule on what this
    /// replica holds (the default workspace lets managers delete), kept as a local tombstone and
    /// pushed like any write. Other replicas that held the record learn of it at their next sync.
    /// With `survivor`, the delete is a merge into it (§7.3): the hub re-points every reference
    /// to the deleted record.
    public func delete(_ id: RecordID, survivor: RecordID? = nil) throws {
        try store.transaction {
            guard var view = try store.view(id, workspace: workspace) else { throw try self.notHere(id.description) }
            let write = FieldWrite(record: id, entity: view.entity, kind: .delete, value: survivor.map(Value.reference) ?? .null, author: user, stamp: try tick())
            view.deleted = try decidedDelete(write, of: view)
            try store.enqueue(write)
            try store.addHistory(HistoryLine(record: id, field: "", old: .null, new: .null, author: user, hlc: write.stamp.hlc, source: "local", rule: "pending"))
            try store.save(confirmed: try store.confirmed(id, workspace: workspace), view: view, workspace: workspace)
        }
    }

    /// The tombstone a delete of `record` leaves, as the core rule decides it on what this replica
    /// holds; refused: `ReplicaError.refused` (`delete-not-permitted` for a rep).
    func decidedDelete(_ write: FieldWrite, of record: Record) throws -> FieldState {
        let context = RuleContext(workspace: workspace, actor: Actor(user: user, role: role), relations: try relations(to: record), record: record)
        let decision = resolve(current: record.deleted, incoming: write, context: context)
        guard decision.outcome == .applied, let state = decision.winner else {
            throw ReplicaError.refused(entity: record.entity, field: record.entity, rule: decision.rule, detail: decision.detail, missing: decision.missing)
        }
        return state
    }

    /// Merges `duplicate` into `keep` (two records of one entity made on two laptops), in one
    /// local transaction (merge-semantics.md §7.3): `keep`'s empty fields take `duplicate`'s
    /// values where this user may write them; every record here that references `duplicate`
    /// is re-pointed to `keep` where this user may write the field (the hub re-points the rest,
    /// and those this laptop does not hold); then `duplicate` is deleted naming `keep`. Refused
    /// whole (nothing written) when this user may not delete `duplicate`.
    @discardableResult
    public func merge(_ duplicate: RecordID, into keep: RecordID) throws -> MergeResult {
        try store.transaction {
            guard duplicate != keep else { throw ReplicaError.invalid("a record cannot be merged into itself", chinese: "记录不能合并到它自己") }
            guard let dup = try store.view(duplicate, workspace: workspace), !dup.isDeleted,
                let kept = try store.view(keep, workspace: workspace), !kept.isDeleted
            else { throw ReplicaError.invalid("both records must be here and not deleted", chinese: "两条记录都必须在本机且未删除") }
            guard dup.entity == kept.entity, let entity = workspace.entity(kept.entity) else {
                throw ReplicaError.invalid("a \(dup.entity) cannot be merged into a \(kept.entity)")
            }
            // A request waiting on the duplicate names it in its target (text, not a reference the
            // hub re-points): merged, it could never be approved. Decided or withdrawn first.
            if let requests = workspace.approvals?.requests, entity.stageField != nil,
                let waiting = try store.children(of: duplicate, entity: requests, workspace: workspace).first(where: {
                    !$0.isDeleted && ($0["state"].isNull || $0["state"] == .member("pending"))
                })
            {
                let short = try shortIDs()
                throw ReplicaError.invalid(
                    "\(short(duplicate)) has a request waiting for a decision (\(short(waiting.id))): approve, reject or withdraw it first, then merge",
                    chinese: "\(short(duplicate)) 有一个等待审批的申请（\(short(waiting.id))）：先批准、驳回或撤回它，再合并")
            }
            let actor = Actor(user: user, role: role)
            // Who may merge is who may delete: asked first, so a rep is told that (not that some
            // activity cannot be re-pointed); the delete at the end decides again.
            _ = try decidedDelete(
                FieldWrite(record: duplicate, entity: dup.entity, kind: .delete, value: .reference(keep), author: user, stamp: Stamp(hlc: clock.last, replica: id)),
                of: dup)
            var result = MergeResult()
            let keptRelations = try relations(to: kept)
            let fill = entity.fields.filter { f in
                kept[f.name].isNull && !dup[f.name].isNull && !f.writeOnce && f.name != entity.stageField
                    && workspace.permission(actor: actor, relations: keptRelations, record: kept, entity: entity.name, field: f.name).mayWrite
            }.map { ($0.name, dup[$0.name]) }
            if !fill.isEmpty {
                try edit(keep, fill)
                result.filled = fill.map(\.0)
            }
            for e in workspace.entities {
                let fields = e.fields.filter { if case .reference(entity.name) = $0.type { true } else { false } }
                guard !fields.isEmpty else { continue }
                // The records naming the duplicate: by the parent index when the reference is
                // the one they hang off by (a deal's activities), else one scan that keeps ids.
                let naming: [Record]
                if fields.count == 1, e.visibleVia == fields[0].name {
                    naming = try store.children(of: duplicate, entity: e.name, workspace: workspace)
                } else {
                    var ids: [RecordID] = []
                    try store.forEach(entity: e.name, workspace: workspace) { r in
                        if fields.contains(where: { r[$0.name] == .reference(duplicate) }) { ids.append(r.id) }
                    }
                    naming = try ids.compactMap { try store.view($0, workspace: workspace) }
                }
                for r in naming where !r.isDeleted {
                    let changes = fields.filter { r[$0.name] == .reference(duplicate) }.map { ($0.name, Value.reference(keep)) }
                    guard !changes.isEmpty else { continue }
                    let rel = try relations(to: r)
                    guard changes.allSatisfy({ workspace.permission(actor: actor, relations: rel, record: r, entity: e.name, field: $0.0).mayWrite }) else {
                        result.leftToHub += 1
                        continue
                    }
                    // A rule the permission does not tell (an activity once written is not
                    // rewritten): the hub re-points it, as it does what this user may not write.
                    let outcome: EditResult
                    do { outcome = try edit(r.id, changes) } catch ReplicaError.refused { result.leftToHub += 1; continue }
                    if outcome.applied.isEmpty { result.leftToHub += 1 } else { result.repointed += 1 }
                }
            }
            try delete(duplicate, survivor: keep)
            return result
        }
    }

    /// Where this user's deals come from, said on a laptop with none: they make them, or a sync
    /// brings them — those at the stages their role sees (customer success: won), or those whose
    /// team they are on (an expert), or simply those they may see.
    public enum DealSource: Sendable, Equatable {
        case made, atStages([String]), withTeam, synced
    }

    public var dealSource: DealSource {
        if workspace.entity("opportunity")?.create[role] != nil { return .made }
        let sees = workspace.role(role)?.sees ?? []
        let stages = sees.compactMap { if case let .stage(s) = $0 { s } else { nil } }
        if !stages.isEmpty { return .atStages(stages) }
        return sees.contains(.relation(.team)) ? .withTeam : .synced
    }

    /// Whether proposals of this user become approval requests (the workspace names a request
    /// entity this role may create); otherwise they go out as bare proposals.
    var canRequestApproval: Bool {
        guard let name = workspace.approvals?.requests, let e = workspace.entity(name) else { return false }
        return e.create[role] != nil
    }

    /// The fields of `record` locked for this user now: a commercial field while an approval is
    /// pending — the hub's state, or a request of mine not yet decided — which `edit` refuses
    /// (`approval-pending`) and `opps show` and the web app mark.
    public func lockedFields(of record: Record) throws -> Set<String> {
        guard let ap = workspace.approvals, let entity = workspace.entity(record.entity) else { return [] }
        let seen = asSeenByTheRules(record, requestPending: try pendingLockingRequest(for: record))
        return Set(entity.fields.filter { ap.locks($0, of: seen, in: entity, for: role) }.map(\.name))
    }

    /// `record` as this laptop's rules judge an edit of it: with a request of mine for its deal
    /// not yet decided (`requestPending`), its approval state pending, as the hub's will be once
    /// the request syncs.
    func asSeenByTheRules(_ record: Record, requestPending: Bool) -> Record {
        guard requestPending, let ap = workspace.approvals, workspace.entity(record.entity)?.field(ap.stateField) != nil else { return record }
        var seen = record
        seen.fields[ap.stateField] = FieldState(
            value: .member("pending"), stamp: Stamp(hlc: HLC(rawValue: 0), replica: self.id), author: user, authority: .own)
        return seen
    }

    /// Whether a request of mine for this deal waits for a decision and locks its fields.
    func pendingLockingRequest(for record: Record) throws -> Bool {
        guard let ap = workspace.approvals, let name = ap.requests, let deal = workspace.deal(of: record) else { return false }
        return try store.children(of: deal, entity: name, workspace: workspace).contains { r in
            r["opportunity"] == .reference(deal) && r.creator == user && (r["state"].isNull || r["state"] == .member("pending")) && ap.locks(kind: r["kind"])
        }
    }

    /// A proposal made here becomes an approval request record, in the same transaction: an
    /// approver decides it (offline too) and the hub applies the decision. Its id comes from
    /// the proposal's stamp, so the same edit always makes the same request.
    func requestApproval(for w: FieldWrite, rule: RuleID, on record: Record, with carried: [FieldWrite] = []) throws -> RecordID {
        guard let name = workspace.approvals?.requests, let deal = workspace.deal(of: record) else {
            throw ReplicaError.invalid("no approval requests in this workspace")
        }
        var rng = SeededGenerator(seed: w.stamp.hlc.rawValue ^ id.uuid.low ^ id.uuid.high)
        let kind = workspace.approvalKind(of: w, rule: rule)
        let requested = ([w] + carried).map { "\($0.field) → \($0.value.isNull ? "(empty)" : $0.value.canonicalText)" }.joined(separator: ", ")
        // `with` before `value`: the hub marks a request pending when its value arrives, and a
        // request is immutable from then on.
        let with: [(String, Value)] = carried.isEmpty ? [] : [("with", .text(carried.map { "\($0.field)=\($0.value.canonicalText)" }.joined(separator: "\n")))]
        return try create(
            entity: name, stage: nil,
            fields: [
                ("opportunity", .reference(deal)), ("kind", .member(kind)), ("requested", .text(requested)),
                ("target", .text(w.record.description)), ("field", .text(w.field)),
            ] + with + [
                ("value", .text(w.value.isNull ? "" : w.value.canonicalText))
            ], using: &rng
        ).record
    }

    /// The record a create made here starts as, before any other write: its creation as the
    /// rules give it and the fields the workspace fills in at creation (an owner, …).
    func made(by write: FieldWrite, entity: Entity) throws -> Record {
        let decision = resolve(
            current: nil, incoming: write, context: RuleContext(workspace: workspace, actor: Actor(user: user, role: role), relations: [], record: nil))
        guard decision.outcome == .applied, let created = decision.winner else {
            throw ReplicaError.refused(
                entity: entity.name, field: entity.stageField ?? entity.name, rule: decision.rule, detail: decision.detail, missing: decision.missing)
        }
        var record = Record(id: write.record, entity: entity.name, created: created)
        for (f, v) in workspace.initialFields(of: write, role: role) {
            record.fields[f] = FieldState(value: v, stamp: write.stamp, author: user, authority: .own)
        }
        return record
    }

    /// Creates a record locally (pending until synced) with initial fields, atomically.
    public func create(entity name: String, stage: String?, fields: [(String, Value)], using rng: inout some RandomNumberGenerator) throws -> EditResult {
        guard let entity = workspace.entity(name) else { throw ReplicaError.invalid("unknown entity \(name)") }
        let stamp = try tick()
        let id = UUID128.version7(milliseconds: stamp.hlc.milliseconds, using: &rng)
        let write = FieldWrite(record: id, entity: name, kind: .create, value: stage.map { .member($0) } ?? .null, author: user, stamp: stamp)
        let record = try made(by: write, entity: entity)
        return try store.transaction {
            try store.enqueue(write)
            try store.save(confirmed: nil, view: record, workspace: workspace)
            // The initial fields are edits on top of the new record, in the same transaction.
            return try edit(id, fields)
        }
    }
}
