import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct UndoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undo", abstract: "Take back your last edit while it has not been synced (works offline).",
        discussion: """
            An edit is what one command (or one form of opps web) did: the fields opps set changed, a stage \
            move, a new deal with its new account, a logged activity, a decision. Taken back whole, it leaves \
            no trace: the hub never saw it. Run it again to take back the edit before. Once opps sync has sent \
            an edit, change the value back with a new edit (opps history ID shows what it was).

            Example: opps undo
            """)

    @OptionGroup var home: HomeOption

    @Flag(help: "Print what was taken back as JSON.")
    var json = false

    func run() throws {
        let r = try home.open()
        let words = home.words(r)
        let say = words.say
        // Nothing to take back is no failure: said, exit 0 (`--json`: nothing undone).
        guard let edit = try r.lastEdit() else {
            if json { return Console.out(try UndoJSON(undone: [], waiting: 0).jsonLine()) }
            return Console.out(
                hanging(
                    "",
                    say(
                        "Nothing to take back: every edit made here has reached the hub. To change a value back, edit it again (opps history ID shows what it was).",
                        "没有可撤销的修改：本机的修改都已同步到服务器。要改回，再修改一次（opps history 编号 显示原来的值）。")))
        }
        // Said from the records as they are with the edit (what it made is gone after); an edit
        // a sync is sending is refused by `undo`.
        let short = try r.shortIDs()
        let said = try r.undoneLines(edit, words: words) { try valueText(r, words, $0, $1, $2) }
        let undone = edit.records.map { id in
            UndoneJSON(id, edit: edit, lines: edit.lines.filter { $0.record == id }, proposals: edit.proposals.filter { $0.record == id })
        }
        let (waiting, unsent) = try r.undo(edit)
        if json {
            Console.out(try UndoJSON(undone: undone, waiting: waiting).jsonLine())
            return
        }
        Console.out(say("Took back your last edit (it was not synced):", "已撤销你的上一项修改（它还没有同步）："))
        for line in said { Console.out(hanging("  \(short(line.record)) ", line.text)) }
        let more = "\(waiting) more edit\(waiting == 1 ? "" : "s") wait\(waiting == 1 ? "s" : "") to be sent"
        Console.out(
            hanging(
                "",
                waiting == 0
                    ? say("No other edit waits to be sent.", "没有别的修改等待同步了。")
                    : unsent > 0
                        ? say("\(more); opps undo again takes back the one before.", "还有 \(waiting) 项修改等待同步；再运行 opps undo 撤销再前一项。")
                        // The one before is in a batch a sync sent and the hub has not answered.
                        : say(
                            waiting == 1
                                ? "\(more), already being sent (it cannot be taken back): opps sync sends it."
                                : "\(more), already being sent (they cannot be taken back): opps sync sends them.",
                            "还有 \(waiting) 项修改等待同步，已在发送中（不能撤销）：opps sync 发出它们。")))
    }
}
