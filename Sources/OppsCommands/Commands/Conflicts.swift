import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "Writes of yours that lost, were rejected or became proposals, and writes that overwrote yours.",
        discussion: "Example: opps conflicts, then opps conflicts restore 12 or opps conflicts dismiss 12.",
        subcommands: [ConflictListCommand.self, ConflictDismissCommand.self, ConflictRestoreCommand.self], defaultSubcommand: ConflictListCommand.self)
}

struct ConflictDismissCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dismiss", abstract: "Put a conflict aside: you have seen it and keep what holds.",
        discussion: "Example: opps conflicts dismiss 12. Only this laptop's list changes; the hub keeps the record of it.")
    @Argument(help: "The conflict's number (after # in opps conflicts).") var number: UInt64
    @OptionGroup var home: HomeOption

    func run() throws {
        let r = try home.open()
        let c = try r.dismissConflict(number)
        let words = home.words(r)
        Console.out(words.say.dismissed(c.id, field: words.field(c.entity, c.field)))
    }
}

struct ConflictRestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Write your value from a conflict again, where the rules allow.",
        discussion: """
            Example: opps conflicts restore 12. The value is written again as a new edit on top of what holds now, with the \
            same rules as opps set: it applies, becomes a request, or is refused on the spot (exit 3) and the conflict stays open.
            """)
    @Argument(help: "The conflict's number (after # in opps conflicts).") var number: UInt64
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the outcome as JSON.") var json = false

    func run() throws {
        let r = try home.open()
        let result = try r.restoreConflict(number)
        try report(result, json: json, r, words: home.words(r))
    }
}

struct ConflictListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the open conflicts (the default).", discussion: "Example: opps conflicts --json")

    @OptionGroup var home: HomeOption

    @Flag(help: "Print a JSON array (record, field, mine, winner, winner_author, rule, outcome, at).")
    var json = false

    func run() throws {
        let r = try home.open()
        let conflicts = try r.store.conflicts()
        if json {
            Console.out(try conflicts.map(ConflictJSON.init).jsonLine())
            return
        }
        let words = home.words(r)
        let say = words.say
        if conflicts.isEmpty { Console.out(say.noConflicts); return }
        let short = try r.shortIDs()
        // Each conflict a block, the blocks a blank line apart: at 80 columns a reason and two
        // values do not fit one line.
        var blocks: [String] = []
        for c in conflicts {
            let shown = { (v: Value) in (try? valueText(r, words, c.entity, c.field, v)) ?? say.value(words, c.entity, c.field, v) }
            // A deal's task or activity by its deal and what it is, not its bare id.
            // One no longer here (a deal handed to someone else): its id names nothing here, so
            // the line says why.
            let named = try r.record(c.record) == nil ? say("(no longer on this laptop)", "（已不在本机）") : r.subject(c.record, words: words)?.title
            let lines = say.conflictLines(
                c.id, short(c.record), record: named, field: words.conflictField(c.entity, c.field), author: c.author, value: shown(c.value),
                outcome: "\(c.outcome)", rule: r.reason(of: c, words: words, chinese: say.chinese),
                // Values quoted as the losing one is: `held: Book the review by sam` read "by sam" as the text's.
                // A record whose tombstone compaction removed holds nothing to show.
                held: c.winner.map { say.quoted(shown($0)) } ?? (c.rule == RuleID.recordDeleted.rawValue ? say("(deleted)", "（已删除）") : say.notShownToYou),
                by: c.winnerAuthor, at: LocalTime.minute(c.hubMilliseconds),
                now: try r.changedSince(c).map { say.quoted(shown($0)) }, width: Console.width)
            blocks.append(lines.joined(separator: "\n"))
        }
        Console.out(blocks.joined(separator: "\n\n"))
        // What to do next, with a number to type back (a value of one's own may be written again).
        Console.out("\n" + say.howToSettle(own: conflicts.first(where: r.mayRestore)?.id, any: conflicts[0].id))
    }
}
