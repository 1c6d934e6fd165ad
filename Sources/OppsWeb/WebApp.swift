import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// The web app's state: the laptop's replica (one owner, so pages and edits are serial like the
/// command line), the per-launch secrets, the sync status, and messages waiting for the next
/// page. Every edit goes through the replica's own local-edit path.
public actor WebApp {
    /// Reopened after a sync (which may bring a new workspace or role).
    var replica: Replica
    let home: String
    /// In the URL `opps web` prints; becomes the session cookie.
    public nonisolated let secret: String
    /// On every form; a POST without it is refused.
    public nonisolated let csrf: String
    /// How to reach the hub for a sync (nil in tests that never sync).
    let transport: (@Sendable (String, String?) -> any Transport)?

    /// The last sync: when, and whether the hub answered.
    var lastAttempt: Date?
    var lastError: String?
    /// Moves when a sync changes what this laptop holds: an open page reloads.
    public private(set) var generation = 0
    var messages = [String: Message]()
    /// Short ids of every record held (the replica keeps them while nothing changes).
    func codes() throws -> ShortIDs { try replica.shortIDs() }

    /// What an action says on the page it returns to.
    struct Message: Sendable {
        var text: String
        var ok: Bool
        /// The refused items, one per line (gates, rules), or what a sync brought, each with the
        /// page it opens where it has one (the deal a sync's line is about).
        var details: [(text: String, link: String?)] = []
        /// The deals the action could have changed, with what hangs off them (`say` patches the
        /// kept pipeline with them); nil: anything may have changed (a sync, an undo, a merge).
        var touched: [RecordID]? = nil
    }

    let clock: any PhysicalClock

    public init(home: String, clock: any PhysicalClock, transport: (@Sendable (String, String?) -> any Transport)?) throws {
        replica = try Replica(home: home, clock: clock)
        self.home = home
        self.clock = clock
        secret = Self.randomHex(32)
        csrf = Self.randomHex(32)
        self.transport = transport
    }

    static func randomHex(_ bytes: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
    }

    // MARK: Messages

    /// The pipeline of every deal, kept until the replica changes: this app's own edits (each
    /// action says so) or another connection's commit (`data_version`: a sync, `opps` in a
    /// terminal). Reading and decoding every deal is most of a board's time.
    var pipelineCache: (version: Int64, edits: Int, pipeline: Pipeline)?
    var edits = 0
    /// The board's deals that look made twice, per filter, found in the cached pipeline and
    /// dropped with it (comparing every open deal with the others of its account was a quarter
    /// of a large board's time).
    var madeTwice = [PipelineFilter: Set<RecordID>]()

    func pipeline() throws -> Pipeline {
        let version = try replica.store.dataVersion()
        if let c = pipelineCache, c.version == version, c.edits == edits { return c.pipeline }
        let p = try replica.pipeline()
        pipelineCache = (version, edits, p)
        madeTwice.removeAll()
        return p
    }

    /// Whether deal `id` is, in `now`, what decides the made-twice sets of a board in `was`:
    /// its name, account, owner and team, and whether its stage is open (an activity logged, a
    /// next step written, a card moved between open stages leave them). A deal new or gone is not.
    static func looksTheSameTwice(_ id: RecordID, was: Pipeline, now: Pipeline) -> Bool {
        guard let before = was.deal(id), let after = now.deal(id) else { return false }
        func open(_ p: Pipeline, _ deal: Record) -> Bool { p.stage(of: deal).map { !(p.workspace.stage($0)?.closed ?? false) } ?? true }
        return ["name", "account", "owner"].allSatisfy { before[$0] == after[$0] } && open(was, before) == open(now, after) && was.teams[id] == now.teams[id]
    }

    /// The made-twice set for `filter` of the pipeline last returned (`find` works it out once).
    func madeTwice(_ filter: PipelineFilter, _ find: () -> Set<RecordID>) -> Set<RecordID> {
        if let ids = madeTwice[filter] { return ids }
        let ids = find()
        madeTwice[filter] = ids
        return ids
    }

    /// Forgets what was read from the replica (benchmarks time a board read from scratch).
    public func dropCaches() {
        pipelineCache = nil
        madeTwice.removeAll()
        replica.forgetShortIDs()
    }

    /// Keeps a message for the page an action redirects to; returns its key. Every action
    /// ends here: what was read from the replica may be stale now.
    func say(_ m: Message) -> String {
        // An action on one deal: the kept pipeline gets that deal again, its activities and
        // team, instead of every deal being read again at the next page (2 s on a manager's
        // laptop of 50,000 deals) — when it was current before the action, and no other
        // connection has written since (a sync, opps in a terminal).
        if let touched = m.touched, let kept = pipelineCache, kept.edits == edits, let version = try? replica.store.dataVersion(), kept.version == version,
            let patched = try? replica.pipeline(patching: kept.pipeline, deals: touched)
        {
            edits += 1
            pipelineCache = (version, edits, patched)
            if !touched.allSatisfy({ Self.looksTheSameTwice($0, was: kept.pipeline, now: patched) }) { madeTwice.removeAll() }
        } else {
            edits += 1
        }
        if messages.count > 64 { messages.removeAll() }
        let key = Self.randomHex(8)
        messages[key] = m
        return key
    }

    func take(_ key: String?) -> Message? {
        guard let key else { return nil }
        return messages.removeValue(forKey: key)
    }

    // MARK: Status

    struct Status: Sendable {
        var online: Bool?
        var lastSync: String?
        /// Edits waiting to be sent (one form sent is one edit).
        var pending: Int
        var conflicts: Int
        var user: String
        var role: String
        var generation: Int
    }

    func status() throws -> Status {
        let last = try replica.store.meta(Replica.lastSyncKey).flatMap(Int64.init).map { Timestamp(milliseconds: $0) }
        return Status(
            online: lastAttempt == nil ? nil : lastError == nil, lastSync: last.map { LocalTime.minute($0.milliseconds) },
            pending: try replica.store.editCount(), conflicts: try replica.store.conflicts().count, user: replica.user, role: replica.role,
            generation: generation)
    }

    // MARK: Actions

    /// What an edit did, as a message: applied, proposed or requested; a refusal with the rule's words.
    func outcome(of body: () throws -> EditResult, entity: String = "opportunity", words: Vocabulary, t: WebText) -> Message {
        do {
            let result = try body()
            var parts = [String]()
            if !result.applied.isEmpty {
                parts.append(t("Changed ", "已修改 ") + result.applied.map { words.field(entity, $0) }.joined(separator: ", ") + t(" (pending sync)", "（待同步）"))
            }
            for (i, p) in result.proposed.enumerated() {
                if i < result.requests.count {
                    parts.append(
                        t("Approval requested for ", "已提交审批：") + words.field(entity, p.field) + " — " + t.detail(words, p.rule, p.detail, entity: entity, field: p.field))
                } else {
                    parts.append(t("Proposed ", "已提议 ") + words.field(entity, p.field) + " — " + t.detail(words, p.rule, p.detail, entity: entity, field: p.field))
                }
            }
            if parts.isEmpty, !result.unchanged.isEmpty {
                parts.append(t("Nothing to change: it already holds that", "没有变化：已经是这个值"))
            }
            return Message(text: parts.joined(separator: "; "), ok: true)
        } catch let ReplicaError.refused(entity, field, rule, detail, missing) {
            // A gate names what is missing: each item in the reader's words, one per line.
            // A refused creation names the entity as its field.
            let items = missing.map { words.field(entity, $0) }
            let what = field == entity ? words.entity(entity) : words.field(entity, field)
            return Message(
                text: t("Refused: ", "被拒绝：") + what + " — " + (items.isEmpty ? t.detail(words, rule, detail, entity: entity, field: field) : t("missing", "缺少"))
                    + " (" + rule.rawValue + ")",
                ok: false, details: items.map { ($0, nil) })
        } catch {
            return failure(error, words: words, t: t)
        }
    }

    /// Any refusal as a message in the reader's words where it has them (a value, field or
    /// record typed wrong, the hub out of reach, a token refused): every action's one mapping. A
    /// refusal said on two lines at a terminal reads as one here (Chinese joined without a space).
    func failure(_ error: any Error, words: Vocabulary, t: WebText) -> Message {
        if let e = error as? ReplicaError {
            let said = (t.chinese ? e.chinese(words) : nil) ?? e.description
            return Message(text: said.replacingOccurrences(of: "\n", with: t.chinese ? "" : " "), ok: false)
        }
        // The replica's disk full, its folder read-only, its file damaged: as the command line says it.
        if let e = error as? StoreError, let reason = e.replicaReason(home: replica.home) { return Message(text: t(reason.english, reason.chinese), ok: false) }
        return Message(text: "\(error)", ok: false)
    }

    /// A new deal from the board's form, as `opps new` makes it (`Replica.newOpportunity`): the
    /// deal's short id to open its page, or the refusal in the reader's words.
    func newDeal(name: String, account: String, amount: String?, currency: String?, close: String?, t: WebText) -> (Message, String?) {
        var rng = SystemRandomNumberGenerator()
        do {
            let made = try replica.newOpportunity(name: name, account: account, amount: amount, currency: currency, close: close, using: &rng)
            // An account made with it is said, so a misspelt name is seen now, not at a merge.
            let account = try made.madeAccount.flatMap { try replica.record($0) }.map { $0["name"].canonicalText }
            let text =
                t("Opportunity created (pending sync)", "已新建商机（待同步）")
                + (account.map { t("; new account \($0)", "；新建客户「\($0)」") } ?? "")
            return (Message(text: text, ok: true, touched: [made.record]), try shortID(made.record))
        } catch {
            var message = failure(error, words: vocabulary(t), t: t)
            // A deal its account has open already: a link to it, and how to make a second one.
            if case let ReplicaError.lookup(.likelyDuplicate, _, candidates, _) = error, let deal = candidates.first, deal.entity == "opportunity" {
                let (account, name) = (deal.account ?? "", deal.name ?? "")
                let stage = deal.stage.map { vocabulary(t).stage($0) } ?? ""
                message.text = t(
                    "\(account) already has an open deal named like that, \"\(name)\" (\(stage)): open it below to work on it; a second deal needs a name that tells them apart",
                    "\(account) 已有名称相同的进行中商机「\(name)」（\(stage)）：点下面打开它继续；要再建一个，请换一个能区分它们的名称")
                message.details = [(deal.code + " " + name, "/deal/" + deal.code)]
            }
            return (message, nil)
        }
    }

    func moveStage(_ id: RecordID, to stage: String, reason: String?, t: WebText) -> Message {
        let words = vocabulary(t)
        guard let s = replica.workspace.stage(input: stage)?.name else { return Message(text: t("Unknown stage", "未知阶段") + ": \(stage)", ok: false) }
        var message = outcome(of: { try replica.moveStage(id, to: s, reason: reason) }, words: words, t: t)
        message.touched = [id]
        // A lead handed off with no territory goes to any rep in turn: said while it can change.
        if message.ok, let known = try? replica.handedOffAnywhere(id) {
            let seen = known.prefix(5).joined(separator: t(", ", "、"))
            let field = words.field("opportunity", "territory")
            message.text += t(
                ". No \(field): the hub gives it to the next rep in turn, whatever their territory\(seen.isEmpty ? "" : " (here: \(seen))"). To give it one before you sync: Undo, set its \(field), and move it again",
                "。没有填\(field)：服务器会在所有区域的销售顾问中轮流分配\(seen.isEmpty ? "" : "（本机见过的：\(seen)）")。要交给某一区域，请在同步前：撤销，填上\(field)，再移动一次")
        }
        return message
    }

    func edit(_ id: RecordID, field: String, text: String, t: WebText) -> Message {
        let words = vocabulary(t)
        let entity = (try? replica.record(id))?.entity ?? "opportunity"
        var message = outcome(
            of: {
                guard let record = try replica.record(id), let f = replica.workspace.entity(record.entity)?.field(field) else {
                    throw ReplicaError.invalid(t("No such field", "没有这个字段") + ": \(field)")
                }
                // An amount typed with its currency (5万美元) sets the deal's currency too.
                let values = text.isEmpty ? [(field, Value.null)] : try replica.parse([(f, text)], of: record.entity)
                return try replica.edit(id, values)
            }, entity: entity, words: words, t: t)
        message.touched = [id]
        return message
    }

    /// An activity logged from the deal's page, now; where it was when the rep says (a visit, a
    /// check-in at the customer's), as `opps log --place`.
    func log(_ deal: RecordID, kind: String, note: String?, place: String? = nil, t: WebText) -> Message {
        let place = place?.trimmingCharacters(in: .whitespaces)
        do {
            _ = try replica.logActivity(
                deal: deal, kind: kind, at: .timestamp(Timestamp(milliseconds: clock.nowMilliseconds())), note: note, place: place?.isEmpty == false ? place : nil)
            return Message(text: t("Activity logged (pending sync)", "已记录跟进（待同步）"), ok: true, touched: [deal])
        } catch {
            return failure(error, words: vocabulary(t), t: t)
        }
    }

    func addTask(_ deal: RecordID, text: String, due: String, assignee: String?, t: WebText) -> Message {
        do {
            _ = try replica.addTask(deal: deal, text: text, due: due, assignee: assignee)
            return Message(text: t("Task added (pending sync)", "已添加任务（待同步）"), ok: true, touched: [deal])
        } catch {
            return failure(error, words: vocabulary(t), t: t)
        }
    }

    func finishTask(_ task: String, t: WebText) -> Message {
        outcome(of: { try replica.finishTask(try replica.resolveID(task)) }, entity: "task", words: vocabulary(t), t: t)
    }

    func addMember(_ deal: RecordID, user: String, role: String, t: WebText) -> Message {
        do {
            let result = try replica.addTeamMember(deal: deal, user: user, role: role)
            return result.requests.isEmpty
                ? Message(text: t("Added \(user) to the team (pending sync)", "已将 \(user) 加入团队（待同步）"), ok: true, touched: [deal])
                : Message(text: t("Requested \(user) for the team: a manager approves", "已申请将 \(user) 加入团队：等待经理审批"), ok: true, touched: [deal])
        } catch {
            return failure(error, words: vocabulary(t), t: t)
        }
    }

    func settleConflict(_ number: String, restore: Bool, t: WebText) -> Message {
        guard let n = UInt64(number) else { return Message(text: t("No such conflict", "没有这个冲突"), ok: false) }
        if restore { return outcome(of: { try replica.restoreConflict(n) }, words: vocabulary(t), t: t) }
        do {
            let c = try replica.dismissConflict(n)
            return Message(text: t("Put aside #\(c.id): what holds stays", "已搁置 #\(c.id)：保留现值"), ok: true)
        } catch {
            return failure(error, words: vocabulary(t), t: t)
        }
    }

    /// A deal made twice merged into `keep` (`opps merge`, the deal's page): the duplicate named
    /// by its short id, as the page's button sends it.
    func merge(_ duplicate: String, into keep: RecordID, t: WebText) -> Message {
        do {
            let id = try replica.resolveID(duplicate, among: ["opportunity"])
            guard try replica.record(id)?.entity == "opportunity" else { throw ReplicaError.invalid("\(duplicate) is not a deal", chinese: "\(duplicate) 不是商机") }
            let m = try replica.merge(id, into: keep)
            let code = try codes()(id)
            var said = t("Merged \(code) into this deal", "已将 \(code) 合并到这里")
            if !m.filled.isEmpty {
                let words = vocabulary(t)
                said += t("; filled in ", "；补上了 ") + m.filled.map { words.field("opportunity", $0) }.joined(separator: t(", ", "、"))
            }
            return Message(text: said + t(" (its calls and tasks follow it once synced)", "（同步后它的跟进记录和任务也到这里）"), ok: true)
        } catch {
            return failure(error, words: vocabulary(t), t: t)
        }
    }

    func decide(_ id: RecordID, _ decision: String, note: String?, t: WebText) -> Message {
        do {
            let (_, a) = try replica.decide(request: id, decision, note: note)
            let what = decision == "approved" ? t("Approved", "已批准") : t("Rejected", "已驳回")
            let words = vocabulary(t)
            return Message(
                text: what + t(": ", "：") + replica.requested(a, words: words, chinese: t.chinese) + t(" (takes effect at the hub when synced)", "（同步后在服务器生效）"), ok: true)
        } catch {
            return failure(error, words: vocabulary(t), t: t)
        }
    }

    /// One's own request taken back (opps withdraw).
    func withdraw(_ id: RecordID, t: WebText) -> Message {
        do {
            let (_, a) = try replica.withdraw(request: id)
            let words = vocabulary(t)
            return Message(
                text: t("Withdrawn: ", "已撤回：") + replica.requested(a, words: words, chinese: t.chinese) + t(" (takes effect at the hub when synced)", "（同步后在服务器生效）"),
                ok: true)
        } catch {
            return failure(error, words: vocabulary(t), t: t)
        }
    }

    /// Takes back the last edit made on this laptop while no sync has sent it (`opps undo`): the
    /// message says what it did, a line a record (linking a deal still here to its page), and
    /// `gone` the short ids of the records it removed (a page of one cannot be gone back to).
    func undo(t: WebText) -> (message: Message, gone: Set<String>) {
        let words = vocabulary(t)
        do {
            guard let edit = try replica.lastEdit() else {
                return (Message(text: t("Nothing to take back: every edit made here has reached the hub", "没有可撤销的修改：本机的修改都已同步到服务器"), ok: true), [])
            }
            let short = try codes()
            let lines = try replica.undoneLines(edit, words: words) { try readable($2, $0, $1, words: words, t: t) }
            var links = [RecordID: String]()
            for id in edit.records where !edit.made.contains(id) {
                if let deal = try replica.subject(id, words: words)?.deal { links[id] = "/deal/" + short(deal) }
            }
            let gone = Set(edit.made.map { short($0) })
            try replica.undo(edit)
            dropCaches()
            generation += 1
            return (
                Message(
                    text: t("Took back your last edit (it was not synced)", "已撤销你的上一项修改（它还没有同步）"), ok: true,
                    details: lines.map { ($0.text, links[$0.record]) }),
                gone
            )
        } catch {
            return (failure(error, words: words, t: t), [])
        }
    }

    /// Push and pull now; the page says what happened. Offline is not an error: work stays.
    /// A sync is running (the button or the background one): a second waits for none and says so.
    /// Two at once would each number a batch from the same outbox.
    var syncing = false

    func sync(t: WebText) async -> Message {
        guard let transport else { return Message(text: t("No hub configured", "未配置服务器"), ok: false) }
        guard !syncing else { return Message(text: t("A sync is already running: its result shows on the next page", "正在同步：结果将在下一页显示"), ok: true) }
        syncing = true
        defer { syncing = false }
        let link = transport(replica.hubURL, replica.caFile)
        defer { Task { await (link as? HTTPTransport)?.shutdown() } }
        lastAttempt = Date()
        // The sync runs on a replica of its own (SQLite lets both read and write the home, as
        // `opps sync` in a terminal does), so pages keep answering while it waits on the hub;
        // the app's replica is reopened after it to see a new workspace or role.
        let (home, clock) = (self.home, self.clock)
        do {
            let trailEnd = try replica.store.historyEnd()
            let r = try await Task.detached { try await Replica(home: home, clock: clock).sync(transport: link) }.value
            replica = try Replica(home: home, clock: clock)
            dropCaches()
            lastError = nil
            if r.pulled > 0 || r.pushed > 0 || r.repaired { generation += 1 }
            // A deal taken off this laptop is news too (it was someone else's doing).
            let news = r.news + r.goneCount
            var changed = news > 0 ? try changedLines(r, after: trailEnd, t: t) : []
            // A request an approver rejected: who, and why as they wrote it (as opps sync says it).
            let rejected = try replica.rejections(in: r, words: vocabulary(t), chinese: t.chinese)
            if !rejected.isEmpty {
                let short = try codes()
                changed += rejected.map { ($0.text, "/deal/" + short($0.record)) }
            }
            return Message(
                // What was sent counted in records, as opps sync says it (one request is seven writes).
                text: t(
                    "Synced: " + (r.pushed == 0 ? "nothing to send" : "sent changes to \(counted(r.pushedRecords, "record"))") + ", "
                        + (news == 0 ? "nothing new from others" : "\(news) update\(news == 1 ? "" : "s") from others"),
                    "已同步：" + (r.pushed == 0 ? "没有要发送的修改" : "发送了 \(r.pushedRecords) 条记录的修改") + "，"
                        + (news == 0 ? "别人没有新的修改" : "收到别人的 \(news) 项修改"))
                    + (r.conflicts > 0 ? t(", \(counted(r.conflicts, "conflict"))", "，\(r.conflicts) 个冲突") : "")
                    // Own writes that held and lost later (SyncReport.overruled), as opps sync says them.
                    + (r.overruled > 0
                        ? t(", \(r.overruled) write\(r.overruled == 1 ? "" : "s") of yours did not hold", "，你有 \(r.overruled) 项修改未被采用") : "")
                    // Others' writes that lost to this user's (SyncReport.heldOver).
                    + (r.heldOver.isEmpty
                        ? ""
                        : t(
                            ", \(r.heldOver.count) write\(r.heldOver.count == 1 ? "" : "s") others made at the same time did not hold, yours stands",
                            "，别人同时修改的 \(r.heldOver.count) 项未被采用，你的值保留"))
                    // This folder was an older copy of its replica (sync-protocol.md §5.5), as opps sync says it.
                    + ((r.newReplicaLine(chinese: t.chinese) ?? r.resyncedLine(chinese: t.chinese)).map { t("; ", "；") + $0 } ?? ""),
                ok: true, details: changed)
        } catch let e as ReplicaError {
            lastError = e.description
            if case .unreachable = e { return Message(text: t("The hub cannot be reached: your work is kept and will sync later", "无法连接服务器：工作已保存，稍后同步"), ok: false) }
            return failure(e, words: vocabulary(t), t: t)
        } catch {
            lastError = "\(error)"
            return failure(error, words: vocabulary(t), t: t)
        }
    }

    /// A value as a page shows it (`WebText.value`), a reference by its record's name.
    func readable(_ value: Value, _ entity: String, _ field: String, words: Vocabulary, t: WebText) throws -> String {
        if case let .reference(target) = value, let name = try replica.record(target).map({ $0["name"].canonicalText }) { return name }
        return value.isNull ? "" : t.value(words, entity, field, value)
    }

    /// What others changed or made in that sync, a line each, as opps sync says it
    /// (`云帆物流 扩容：下一步 → 约王总面谈（lin）`, `新商机「…」（wei）`): five, then how many more;
    /// each line opens its deal (an account has no page).
    func changedLines(_ report: SyncReport, after position: Int64, t: WebText) throws -> [(text: String, link: String?)] {
        let words = vocabulary(t)
        let settled = try replica.requestsSettledByOthers(after: position, words: words, chinese: t.chinese)
        let changed = try replica.changesByOthers(report, after: position, first: 5, settled: Set(settled.compactMap(\.deal)), words: words)
        let short = try codes()
        var lines: [(text: String, link: String?)] = try changed.shown.map { c in
            let link = replica.workspace.entity(c.entity)?.stageField != nil ? "/deal/" + short(c.record) : nil
            let text = try c.sentence(words, chinese: t.chinese, reader: replica.user, deleted: t("deleted", "已删除")) {
                try readable($2, $0, $1, words: words, t: t)
            }
            return (text, link)
        }
        let more = changed.count - changed.shown.count
        if more > 0 { lines.append((t("…and \(grouped(more)) more", "…还有 \(grouped(more)) 项"), nil)) }
        // Deals the sync took off this laptop: by name, with no page to open.
        lines += report.goneLines(chinese: t.chinese).map { ($0, nil) }
        // Requests that left an approver's queue without their decision: the approvals page.
        lines += settled.map { ($0.text, "/approvals") }
        // The same deal made on another laptop, brought here: a line a pair, its first deal's
        // page (the one to keep), and the line that merges them (opps duplicates lists them).
        let groups = try replica.duplicateDeals(broughtBy: report)
        for group in groups.prefix(3) {
            var account = ""
            if case let .reference(a) = group[0]["account"] { account = try replica.record(a)?["name"].canonicalText ?? "" }
            let name = group[0]["name"].canonicalText
            // Its page merges them (a manager's button) or says who does.
            let next = replica.mayMergeDeals ? t("open it to merge them", "点开可合并") : t("open it to see them; a manager merges them", "点开查看，由经理合并")
            lines.append(
                (
                    t("Made twice? \(group.count) open deals at \(account) named \"\(name)\": \(next)", "疑似重复：\(account) 有 \(group.count) 个名为「\(name)」的进行中商机：\(next)"),
                    "/deal/" + short(group[0].id)
                ))
        }
        if groups.count > 3 {
            let n = groups.count - 3
            lines.append((t("…and \(grouped(n)) more made twice: opps duplicates lists every one", "…还有 \(grouped(n)) 组疑似重复：opps duplicates 列出全部"), nil))
        }
        return lines
    }

    /// The periodic sync: quiet (the status bar says how it went).
    public func backgroundSync() async {
        _ = await sync(t: WebText(acceptLanguage: nil, override: "en"))
    }

    /// The deal a record belongs to when it is not a deal itself (a task, an activity, an
    /// approval, a team member: their `opportunity`) and this laptop holds it; nil for a deal,
    /// an account, a contact.
    func deal(of id: RecordID) throws -> RecordID? {
        guard let record = try replica.record(id), record.entity != "opportunity", case let .reference(deal) = record["opportunity"],
            try replica.record(deal) != nil
        else { return nil }
        return deal
    }

    func vocabulary(_ t: WebText) -> Vocabulary { Vocabulary(replica.workspace, locale: replica.workspace.displayLocale(preferring: [t.locale]), humanized: true) }
}
