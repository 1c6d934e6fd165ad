import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "A record's trail on this laptop: who changed what, when (device time).",
        discussion: "Changes made here, and those pulled after the record arrived; what happened before is its timeline (opps show).\n\nExample: opps history 7dka36sd")

    @Argument(help: "The record: its short id as opps list prints it (4+ characters do), a full id, or an exact name.")
    var id: String

    @OptionGroup var home: HomeOption

    @Flag(help: "Print a JSON array, one object per change.")
    var json = false

    func run() throws {
        let r = try home.open()
        let recordID = try r.resolveID(id)
        let lines = try r.store.history(recordID)
        let words = home.words(r)
        let entity = try r.record(recordID)?.entity ?? "opportunity"
        if json {
            Console.out(try lines.map(HistoryJSON.init).jsonLine())
            return
        }
        let say = words.say
        func shown(_ field: String, _ v: Value) -> String { v.isNull ? say.empty : say.value(words, entity, field, v) }
        // The stage log is the stage's own changes again, in its storage form (one line per move,
        // hub times in milliseconds): the stage's lines say it, as `opps show`'s timeline does.
        let stageLog = r.workspace.entity(entity)?.stageField != nil ? r.workspace.stageHistory : nil
        let shownLines = lines.filter { $0.field != stageLog || $0.field.isEmpty }
        if shownLines.isEmpty {
            // A record that came whole (a first sync) has no trail here yet: say so, and where its story is.
            let short = try r.shortIDs()(recordID)
            Console.out(
                say(
                    "No change to this record on this laptop since it arrived; its timeline: opps show \(short)",
                    "这条记录来到本机以来还没有修改；它的时间线：opps show \(short)"))
            return
        }
        for h in shownLines {
            // A line without a field is the record's deletion (merge-semantics.md §7.2).
            let change =
                h.field.isEmpty
                ? say.deletedTheRecord
                : "\(words.field(entity, h.field)): \(shown(h.field, h.old)) → \(shown(h.field, h.new))"
            // To the minute in device time, as the timeline; a long change continues under itself.
            let head = "\(minuteText(h.hlc.milliseconds))  \(h.author.padding(6)) "
            let text = "\(change) [\(h.source)\(h.rule.isEmpty ? "" : " " + h.rule)]"
            Console.out(hanging(head, text))
        }
    }
}
