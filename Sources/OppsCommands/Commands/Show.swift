import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// A value as a reader reads it: a member or a yes/no in their words, empty as empty, and a
/// reference as the record's name and short id (`华为（4kcexbcz）`), or its id and "not on this
/// laptop" when the laptop does not hold it. `opps show`, its timeline, `opps history` and
/// `opps conflicts` all print values so.
func valueText(_ r: Replica, _ words: Vocabulary, _ entity: String, _ field: String, _ v: Value) throws -> String {
    let say = words.say
    if v.isNull { return say.empty }
    // An amount with thousands separators and a percentage with its sign, wherever it is read
    // (Vocabulary.value: a conflict said 200000.00 where show said 200,000.00); opps set takes
    // either back as printed.
    guard case let .reference(target) = v else { return say.value(words, entity, field, v) }
    guard let t = try r.record(target) else { return "\(target) \(say.notOnThisLaptop)" }
    let name = t["name"].isNull ? words.entity(t.entity) : t["name"].canonicalText, code = try r.shortIDs()(target)
    return say("\(name) (\(code))", "\(name)（\(code)）")
}

func recordJSON(_ r: Replica, _ record: Record) -> JSON {
    (try? JSONValueEncoder.encode(RecordJSON(r, record))) ?? .null
}

/// A record as `show --json` prints it, with the records that point at it under `related`'s keys
/// (an account's deals and contacts, a contact's deals), each as `show --json` prints it.
func recordJSON(_ r: Replica, _ record: Record, related: [(key: String, records: [Record])]) -> JSON {
    var out = recordJSON(r, record)
    if case .object(var members) = out.kind {
        for (key, records) in related { members.append(JSON.Member(key: key, value: .array(records.map { recordJSON(r, $0) }))) }
        out = JSON(.object(members))
    }
    return out
}

func printRecord(_ r: Replica, _ id: RecordID, json: Bool, short: Bool = false, words: Vocabulary) throws {
    guard let record = try r.record(id) else { throw try r.notHere(id.description) }
    let say = words.say
    if json { Console.out(recordJSON(r, record).compactText); return }
    let code = try r.shortIDs()(record.id)
    if short {
        // A deal, account or contact by its name; a task by what it says.
        let title = ["name", "text"].lazy.map { record[$0] }.first { !$0.isNull }?.canonicalText
        Console.out(say.madeShort(code, words.entity(record.entity), name: title))
        return
    }
    let pending = try r.pendingFields(id)
    Console.out(say("\(words.entity(record.entity)) \(code)  (\(record.id))", "\(words.entity(record.entity)) \(code)（\(record.id)）"))
    if let d = record.deleted { Console.out("  " + say.deletedBy(d.author, at: LocalTime.minute(d.stamp.hlc.milliseconds))) }
    // A deal made twice says with which, and who merges (`opps duplicates`, the web's page).
    let twins = try r.likelyDuplicates(of: record)
    if !twins.isEmpty {
        let short = try r.shortIDs()
        let named = twins.map { say("\(short($0.id)) \"\($0["name"].canonicalText)\"", "\(short($0.id))「\($0["name"].canonicalText)」") }.joined(separator: say(", ", "、"))
        let line = mergeLine(DealKind.command, [record] + twins, short)
        Console.out(
            hanging(
                "  ",
                r.mayMergeDeals
                    ? say("looks made twice with \(named): merge them with \(line)", "看起来和 \(named)是同一个商机：合并用 \(line)")
                    : say("looks made twice with \(named): a manager merges them (\(line))", "看起来和 \(named)是同一个商机：由经理合并（\(line)）")))
    }
    let locked = try r.lockedFields(of: record)
    for f in r.workspace.entity(record.entity)?.fields ?? [] {
        let v = record[f.name]
        if v.isNull { continue }
        // The stage log reads as the timeline's stage moves, below.
        if f.name == r.workspace.stageHistory { continue }
        // A request on the deal itself: its target is the deal the line above names.
        if record.entity == r.workspace.approvalRequests, f.name == "target", case let .reference(deal) = record["opportunity"], v == .text(deal.description) {
            continue
        }
        // A reference reads as the record's name and short id; an amount with thousands separators.
        var shown =
            try r.requestText(record, field: f.name, words: words, chinese: say.chinese) { try valueText(r, words, $0, $1, $2) }
            ?? valueText(r, words, record.entity, f.name, v)
        // A time to the minute, as the timeline shows it (and as opps set takes it back), on the reader's clock.
        if case let .timestamp(t) = v { shown = LocalTime.minute(t.milliseconds) }
        // A long value (a next step, a note) continues under itself.
        let head = "  \(words.field(record.entity, f.name).padding(16)) "
        // A commercial field locked while an approval is pending says so (opps set would refuse it).
        let text = shown + (pending.contains(f.name) ? "   " + say.pendingSync : "") + (locked.contains(f.name) ? "   " + say.lockedForApproval : "")
        Console.out(hanging(head, text))
    }
    // Who made a record that has no timeline to say it (a request: who asked, and when), on
    // the reader's clock as the timeline's times are.
    if r.workspace.entity(record.entity)?.stageField == nil {
        let label = record.entity == r.workspace.approvalRequests ? say("asked by", "申请人") : say("made by", "创建人")
        let when = LocalTime.minute(record.created.stamp.hlc.milliseconds)
        let who = authorName(record.creator, chinese: say.chinese)
        Console.out("  \(label.padding(16)) " + say("\(who), \(when)", "\(who)（\(when)）"))
    }
    // The empty fields this user may fill now (opps show leaves empty fields out): which exist,
    // and the command that fills one. As the web page's inputs: not the stage, not a locked field.
    // (Not on an approval request: opps writes its fields when it asks, and they stay as asked.)
    if record.deleted == nil, record.entity != r.workspace.approvalRequests, let entity = r.workspace.entity(record.entity) {
        let changeable = try r.changeableFields(of: record)
        let empty = entity.fields.filter { f in record[f.name].isNull && (changeable[f.name] ?? .hidden) >= .write }
        // What the stage needs before the next comes first, as the line that fills it (as opps
        // stage and the web page's marks say it); the others after, those of the groups this
        // deal has something in first (its amount before ten empty lead fields, as the web page
        // folds a group with nothing in it).
        let gate = r.workspace.nextGate(of: record)
        let needed = empty.filter { gate?.missing.contains($0.name) == true }
        let busy = Set(
            entity.fields.filter {
                (!record[$0.name].isNull && $0.name != entity.stageField && $0.name != r.workspace.stageHistory) || Entity.workedBy.contains($0.name)
            }.map(\.group))
        let groups = entity.groupOrder
        let others = empty.filter { f in !needed.contains { $0.name == f.name } }.enumerated().sorted { a, b in
            let x = (busy.contains(a.element.group) ? 0 : 1, groups.firstIndex(of: a.element.group) ?? 0, a.offset)
            let y = (busy.contains(b.element.group) ? 0 : 1, groups.firstIndex(of: b.element.group) ?? 0, b.offset)
            return x < y
        }.map(\.element)
        if let gate, !needed.isEmpty {
            let line = say.beforeStage(words.stage(gate.next.name), code: code, pairs: gatePairs(entity, needed.map(\.name), words: words))
            Console.out(commandHanging(line, indent: "  "))
        }
        if let first = others.first {
            // Broken between the fields, never inside one (解|决方案, next| step), each line under the first.
            let head = "  " + (needed.isEmpty ? say.emptyToFill([]) : say.otherEmpty)
            let lines = itemLines(others.map { words.field(record.entity, $0.name) }, width: max(20, Console.width - head.displayWidth), separator: say(", ", "、"))
            Console.out(head + lines.joined(separator: "\n" + String(repeating: " ", count: head.displayWidth)))
            // With what the field takes (probability=50%, close_date=YYYY-MM-DD), as a gate's hint writes it.
            if needed.isEmpty { Console.out("    " + say.forExample("opps set \(code) " + (gatePairs(entity, [first.name], words: words).first ?? ""))) }
        }
    }
    if r.workspace.entity(record.entity)?.stageField != nil { try printTimeline(r, record, words) }
}

/// A deal's timeline under its fields: stage moves, activities, tasks, approvals, team changes
/// and this laptop's conflicts, oldest first, by device time (Timeline.swift).
func printTimeline(_ r: Replica, _ deal: Record, _ words: Vocabulary) throws {
    let events = try r.timeline(of: deal)
    guard !events.isEmpty else { return }
    let short = try r.shortIDs()
    let say = words.say
    Console.out("  " + say.timeline)
    let e = deal.entity
    for event in events {
        let line = r.sentence(event, deal: deal, words: words, chinese: say.chinese, id: short(event.record)) { field, v in
            (try? valueText(r, words, e, field, v)) ?? say.value(words, e, field, v)
        }
        // A long line (a note, a conflict's reason) continues under itself, not at column 0.
        let head = "    \(LocalTime.minute(event.at))  \(authorName(event.by, chinese: say.chinese).padding(6)) "
        Console.out(hanging(head, line))
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one record with every field.", discussion: "Example: opps show 7dka36sd (or opps show \"ACME rollout\")")

    @Argument(help: "The record: its short id as opps list prints it (4+ characters do), a full id, its name, or a part of it only one name holds.")
    var id: String

    @OptionGroup var home: HomeOption

    @Flag(help: "Print {id, type, fields} as JSON (decimals as strings).")
    var json = false

    func run() throws {
        let r = try home.open()
        try printRecord(r, try r.resolveID(id, reading: true), json: json, words: home.words(r))
    }
}
