import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

func recordJSON(_ r: Replica, _ record: Record) -> JSON {
    (try? JSONValueEncoder.encode(RecordJSON(r, record))) ?? .null
}

func printRecord(_ r: Replica, _ id: RecordID, json: Bool, short: Bool = false, words: Vocabulary? = nil) throws {
    guard let record = try r.record(id) else { throw ReplicaError.invalid("no record \(id)") }
    let words = words ?? Vocabulary(r.workspace, locale: nil)
    if json { Console.out(recordJSON(r, record).compactText); return }
    let code = try r.shortIDs()(record.id)
    if short {
        let name = record["name"].isNull ? "" : " \"\(record["name"].canonicalText)\""
        Console.out("\(code)  \(words.entity(record.entity))\(name) (pending sync)")
        return
    }
    let pending = try r.pendingFields(id)
    Console.out("\(words.entity(record.entity)) \(code)  (\(record.id))")
    if let d = record.deleted { Console.out("  deleted by \(d.author) at \(d.stamp.hlc.timestamp): kept here as it was; nothing can change it") }
    for f in r.workspace.entity(record.entity)?.fields ?? [] {
        let v = record[f.name]
        if v.isNull { continue }
        // The stage log reads as the timeline's stage moves, below.
        if f.name == r.workspace.stageHistory { continue }
        // A reference reads as the record's name and short id; an amount with thousands separators.
        var shown = words.value(record.entity, f.name, v)
        if case let .reference(target) = v {
            if let t = try r.record(target) {
                shown = "\(t["name"].isNull ? t.entity : t["name"].canonicalText) (\(try r.shortIDs()(target)))"
            } else {
                shown = "\(target) (not on this laptop)"
            }
        }
        if case .decimal = v { shown = groupedAmount(shown) }
        Console.out("  \(words.field(record.entity, f.name).padding(16)) \(shown)\(pending.contains(f.name) ? "   (pending sync)" : "")")
    }
    if r.workspace.entity(record.entity)?.stageField != nil { try printTimeline(r, record, words) }
}

/// A deal's timeline under its fields: stage moves, activities, tasks, approvals, team changes
/// and this laptop's conflicts, oldest first, by device time (Timeline.swift).
func printTimeline(_ r: Replica, _ deal: Record, _ words: Vocabulary) throws {
    let events = try r.timeline(of: deal)
    guard !events.isEmpty else { return }
    let short = try r.shortIDs()
    Console.out("  timeline (device time)")
    let e = deal.entity
    for event in events {
        let line: String
        switch event.kind {
        case let .stage(from, to):
            line = from.map { "stage \(words.stage($0)) → \(words.stage(to))" } ?? "created in \(words.stage(to))"
        case let .activity(kind, note, place, flagged):
            line =
                words.member("activity", "kind", kind) + (place.map { " at \($0)" } ?? "") + (note.map { ": \($0)" } ?? "")
                + (flagged ? " (device clock was off at sync)" : "")
        case let .task(text, due, done, assignee):
            line = "task \(short(event.record)) \"\(text)\"" + (due.map { " due \($0)" } ?? "") + (assignee.map { " for \($0)" } ?? "") + (done ? ", done" : ", open")
        case let .approval(kind, field, value, state, decidedBy, note):
            let what = field.map { words.field(e, $0) + (value.map { " " + $0 } ?? "") } ?? words.member("approval", "kind", kind)
            line =
                "approval \(short(event.record)) for \(what): " + words.member("approval", "state", state) + (decidedBy.map { " by \($0)" } ?? "")
                + (note.map { " — \($0)" } ?? "")
        case let .team(user, role, state):
            line = "team: \(user) (\(words.member("membership", "role", role))) " + words.member("membership", "state", state)
        case let .conflict(number, field, value, outcome, rule, winner):
            let shown = { (v: Value) in v.isNull ? "(empty)" : words.value(e, field, v) }
            line = "conflict #\(number) \(words.field(e, field)): \(shown(value)) \(outcome) (\(rule))" + (winner.map { "; holds \(shown($0))" } ?? "")
        case .deleted:
            line = "deleted the \(words.entity(e))"
        }
        Console.out("    \(minuteText(event.at))  \(event.by.padding(6)) \(line)")
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one record with every field.", discussion: "Example: opps show 7dka36sd (or opps show \"ACME rollout\")")

    @Argument(help: "The record: its short id as opps list prints it (4+ characters do), a full id, or an exact name.")
    var id: String

    @OptionGroup var home: HomeOption

    @Flag(help: "Print {id, type, fields} as JSON (decimals as strings).")
    var json = false

    func run() throws {
        let r = try home.open()
        try printRecord(r, try r.resolveID(id), json: json, words: home.words(r))
    }
}
