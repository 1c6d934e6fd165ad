import OppsCore
import OppsStore

/// What others changed on a staged record (a deal) in one sync, as the sync's trail holds it.
public struct ChangeByOthers: Sendable {
    public var record: RecordID
    public var entity: String
    /// Its name as it reads now; nil when it has none (a surface says the entity's word).
    public var name: String?
    /// Each field changed, with where it ended (a field changed twice reads once); an empty
    /// field name is the record's deletion.
    public var fields: [(String, Value)]
    /// Who changed it, in the order they did (`BatchDecider.systemAuthor`: the hub itself,
    /// assigning an owner); for a record made, who made it.
    public var authors: [String]
    /// A record another made, new here (no fields: it came whole): this one (a deal, an
    /// account), or one on this deal (an activity, a task: its entity and its text).
    public var made: Made?
    /// More records others made on this deal, new here, said on the same line (a request and
    /// the deal's approval state it set read as one event).
    public var alsoMade: [(entity: String, text: String?)] = []
    /// A deal made by another and owned by someone else (a lead handed off, assigned by the
    /// hub): its owner, so that a rep reads that it is now hers. Nil otherwise.
    public var owner: UserName?

    public enum Made: Sendable, Equatable {
        case record
        case child(entity: String, text: String?)
    }

    /// Who, as its line ends on every surface: ` (lin, wei)` / `（lin、wei）`, the hub's own writes
    /// (an owner it assigned, records an import made) the hub's; a deal handed to someone with
    /// its owner — the reader when it is hers (` (mia; yours)` / `（mia，负责人是你）`).
    public func by(chinese: Bool, reader: UserName) -> String {
        let who = authors.map { authorName($0, chinese: chinese) }
        let owned =
            owner.map { owner in
                owner == reader ? (chinese ? "，负责人是你" : "; yours") : (chinese ? "，负责人 \(owner)" : "; owner \(owner)")
            } ?? ""
        return chinese ? "（\(who.joined(separator: "、"))\(owned)）" : " (\(who.joined(separator: ", "))\(owned))"
    }

    /// The line every surface says (`云帆物流 扩容：折扣 → 12.5%（lin）`, `新商机「…」（wei）`,
    /// `…：审批状态 → 待审批、新审批（wei、服务器）`), its values as `value` reads them (a
    /// reference by name, an amount grouped). `deleted`: the surface's words for a deletion.
    public func sentence(
        _ words: Vocabulary, chinese: Bool, reader: UserName, deleted: String, value: (String, String, Value) throws -> String
    ) rethrows -> String {
        func say(_ en: String, _ zh: String) -> String { chinese ? zh : en }
        let name = self.name ?? words.entity(entity)
        func child(_ entity: String, _ text: String?) -> String {
            let what = words.entity(entity)
            return say("new \(what)\(text.map { " \"\($0)\"" } ?? "")", "新\(what)\(text.map { "「\($0)」" } ?? "")")
        }
        if case .record? = made {
            let entity = words.entity(self.entity)
            return say("new \(entity): \(name)", "新\(entity)「\(name)」") + by(chinese: chinese, reader: reader)
        }
        var parts = try fields.map { field, v in field.isEmpty ? deleted : "\(words.field(entity, field)) → \(try value(entity, field, v))" }
        if case let .child(entity, text)? = made { parts.append(child(entity, text)) }
        parts += alsoMade.map { child($0.entity, $0.text) }
        return say("\(name): " + parts.joined(separator: "; "), "\(name)：" + parts.joined(separator: "、")) + by(chinese: chinese, reader: reader)
    }
}

extension Replica {
    /// What a sync brought from others, a line each, as its surfaces say it: first the deals
    /// others changed (`changesByOthers(after:first:)`), then the records others made that it
    /// brought (`SyncReport.newRecords`) — a deal or an account as itself, an activity or a task
    /// as made on its deal — as many as `limit` leaves room for. `count` is every line there is.
    ///
    /// `settled`: the deals whose request another user settled in the sync, said on a line of its
    /// own (`requestsSettledByOthers`): the approval state the hub set on such a deal because of
    /// it is not said again on the deal's line, and a line with nothing else is left out.
    /// `words`: a request made on a deal reads as what it asks (`折扣 → 25%`) in them.
    public func changesByOthers(
        _ report: SyncReport, after position: Int64, first limit: Int, settled: Set<RecordID> = [], words: Vocabulary
    ) throws -> (
        shown: [ChangeByOthers], count: Int
    ) {
        var (shown, count) = try changesByOthers(after: position, first: limit, settled: settled)
        // The kept ids (20 at most) read, deals first, then what was made on a deal, then the
        // rest (an account, a contact): a rep reads the deal handed to her before its company.
        var made: [(rank: Int, change: ChangeByOthers)] = []
        var merged = 0
        for id in report.newRecords {
            guard let record = try record(id) else { continue }
            // A request that came already settled (a deal handed over with its former owner's
            // request, which the hub rejected then): history, not news — nothing waits on it.
            if record.entity == workspace.approvalRequests, case let .member(state) = record["state"], state != "pending" {
                merged += 1
                continue
            }
            // A record hanging off a deal that this reader may read nothing of, not even which
            // deal (another's request, to an expert): nothing to tell them.
            if let via = workspace.entity(record.entity)?.visibleVia, record[via].isNull {
                merged += 1
                continue
            }
            if workspace.entity(record.entity)?.stageField == nil, case let .reference(parent) = record["opportunity"], let deal = try self.record(parent) {
                // A request by what it asks, not by its note (the hub's own, in English, when it
                // arrives refused).
                let text = record.entity == workspace.approvalRequests ? requested(record, words: words, chinese: words.readsChinese) : record.subjectText?.canonicalText
                let child = (entity: record.entity, text: text)
                // On a deal already said: on its line (a request, and the approval state it set).
                func fold(_ c: inout ChangeByOthers) {
                    c.alsoMade.append(child)
                    if !c.authors.contains(record.creator) { c.authors.insert(record.creator, at: 0) }
                    merged += 1
                }
                if let i = shown.firstIndex(where: { $0.record == deal.id && $0.made == nil }) {
                    fold(&shown[i])
                } else if let i = made.firstIndex(where: { $0.change.record == deal.id && $0.rank == 1 }) {
                    fold(&made[i].change)
                } else {
                    let c = ChangeByOthers(
                        record: deal.id, entity: deal.entity, name: deal.nameText, fields: [], authors: [record.creator],
                        made: .child(entity: child.entity, text: child.text))
                    made.append((1, c))
                }
            } else {
                var c = ChangeByOthers(record: id, entity: record.entity, name: record.nameText, fields: [], authors: [record.creator], made: .record)
                if let owner = record.owner, owner != record.creator { c.owner = owner }
                made.append((workspace.entity(record.entity)?.stageField != nil ? 0 : 2, c))
            }
        }
        // (A stable sort: within a rank, the order the sync brought them.)
        let ranked = made.enumerated().sorted { ($0.element.rank, $0.offset) < ($1.element.rank, $1.offset) }.map(\.element.change)
        shown += ranked.prefix(max(0, limit - shown.count))
        return (shown, count + report.newRecordCount - merged)
    }

    /// The deals others changed since the trail ended at `position` (`ReplicaStore.historyEnd`
    /// before a sync), in the order the sync brought them: the first `limit` in full, and how
    /// many deals in all. Records that arrived whole are not in the trail, nor this user's own
    /// writes from another laptop, nor the stage's own log. Only the deals shown are read: what
    /// a catch-up of many changes costs to say is one scan of its trail's ids.
    public func changesByOthers(after position: Int64, first limit: Int, settled: Set<RecordID> = []) throws -> (shown: [ChangeByOthers], deals: Int) {
        let staged = workspace.entities.filter { $0.stageField != nil }.map(\.name)
        let stageLog = workspace.stageHistory
        let ids = try store.pulledRecords(after: position, entities: staged, notBy: user, skipping: stageLog)
        var folded = 0
        let shown = try ids.prefix(limit).compactMap { id -> ChangeByOthers? in
            guard let record = try record(id) else { return nil }
            var c = ChangeByOthers(record: id, entity: record.entity, name: record.nameText, fields: [], authors: [])
            // The hub's approval state of a deal whose request's settling has a line of its own.
            let quiet = settled.contains(id) ? workspace.approvals?.stateField : nil
            for line in try store.pulledHistory(of: id, after: position) where line.author != user && line.field != stageLog {
                if line.field == quiet, line.author == BatchDecider.systemAuthor { continue }
                c.fields.removeAll { $0.0 == line.field }
                c.fields.append((line.field, line.field.isEmpty ? .null : line.new))
                if !c.authors.contains(line.author) { c.authors.append(line.author) }
            }
            if c.fields.isEmpty, quiet != nil {
                folded += 1
                return nil
            }
            return c
        }
        return (shown, ids.count - folded)
    }
}

extension Record {
    /// Its name as it reads, nil when it has none (a surface then says its entity's word).
    var nameText: String? { self["name"].isNull ? nil : self["name"].canonicalText }
    /// What a record under a deal says (a task's text, an activity's note, a team member's
    /// user): the first of them it has.
    var subjectText: Value? { ["text", "note", "user"].lazy.map { self[$0] }.first { !$0.isNull } }
}

extension ReplicaStore.Gone {
    /// What every surface says of a deal a sync took off this laptop (`SyncReport.gone`): by its
    /// name, as its id names nothing here any more.
    public func sentence(chinese: Bool) -> String {
        switch reason {
        case .left: break
        case .away:
            return chinese
                ? "\(name)：在你离开期间已被删除或你已无权查看，已从本机移除"
                : "\(name): deleted or no longer yours to see since your last sync: taken off this laptop"
        case .madeHere:
            return chinese
                ? "\(name)：在本机新建，服务器上它已被删除或你已无权查看，已从本机移除"
                : "\(name): made on this laptop, since deleted or no longer yours to see: taken off this laptop"
        }
        return chinese
            ? "\(name)：已从本机移除，你不再能看到它（负责人或团队有变化）"
            : "\(name): taken off this laptop, no longer yours to see (its owner or team changed)"
    }
}

extension SyncReport {
    /// What every surface says of the deals a sync took off this laptop: the first `limit`, a
    /// line each (`ReplicaStore.Gone.sentence`), then how many more.
    public func goneLines(first limit: Int = 5, chinese: Bool) -> [String] {
        let shown = gone.prefix(limit)
        let more = goneCount - shown.count
        return shown.map { $0.sentence(chinese: chinese) }
            + (more > 0 ? [chinese ? "…还有 \(grouped(more)) 个已从本机移除" : "…and \(grouped(more)) more taken off this laptop"] : [])
    }
}

extension SyncReport {
    /// What every surface says of a sync that pulled everything again because the hub had
    /// compacted past what this laptop last had (it was away longer than the hub keeps
    /// changes): not a repair, nothing was wrong with it; nil for any other sync.
    public func resyncedLine(chinese: Bool) -> String? {
        guard repaired, !diverged else { return nil }
        return chinese
            ? "离线时间超过服务器保留变更的期限，已从服务器完整重新同步"
            : "away longer than the hub keeps changes: synced in full again"
    }

    /// What every surface says of a sync that found this folder an older copy of its replica
    /// and went on as a new one (sync-protocol.md §5.5); nil for any other sync.
    public func newReplicaLine(chinese: Bool) -> String? {
        guard tookNewID else { return nil }
        return chinese
            ? "这个文件夹是你副本的旧拷贝（从备份恢复或复制而来），现已作为新副本同步；其中的修改都已发出，没有覆盖任何更新的值"
            : "this folder was an older copy of your replica (restored from a backup, or copied): it syncs as a new replica now; its edits were sent, and none replaced a newer value"
    }
}
