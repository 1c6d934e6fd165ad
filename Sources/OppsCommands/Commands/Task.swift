import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// `opps task …`.
struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Tasks on deals: next steps with a due date and an assignee.",
        discussion: "Example: opps task add 7dka36sd \"send the quote\" --due 2026-12-04", subcommands: [Add.self, Done.self], defaultSubcommand: Add.self)

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a task to a deal.", discussion: "Example: opps task add 7dka36sd \"send the quote\" --due 2026-12-04")
        @Argument(help: "The deal: its short id as opps list prints it, or its exact name.") var id: String
        @Argument(help: "What to do (words typed without quotes are joined with spaces).") var text: [String]
        @Option(help: "Due date, YYYY-MM-DD (or 12-05, tomorrow, friday, next monday).") var due: String
        @Option(help: "Who does it: a user of the hub, by name (checked against the names your last sync brought); default: you.") var assignee: String?
        @OptionGroup var home: HomeOption
        @Flag(help: "Print the new task as JSON.") var json = false

        func run() throws {
            let r = try home.open()
            let deal = try dealID(r, id)
            let result = try r.addTask(deal: deal, text: text.joined(separator: " "), due: due, assignee: assignee)
            guard !json, let task = try r.record(result.record) else { return try printRecord(r, result.record, json: json, words: home.words(r)) }
            // The day it is due, as the typed date was read, and whose it is when not the reader's.
            let words = home.words(r)
            let dueDay: CivilDate? = if case let .date(d) = task["due"] { d } else { nil }
            let other: String? = if case let .text(a) = task["assignee"], a != r.user { a } else { nil }
            Console.out(
                words.say.taskMade(try r.shortIDs()(task.id), words.entity(task.entity), text: task["text"].canonicalText, due: dueDay, assignee: other))
        }
    }

    struct Done: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a task done.", discussion: "Example: opps task done k3m9x2qa")
        @Argument(help: "The task: its short id as opps today or opps show prints it.") var id: String
        @OptionGroup var home: HomeOption
        @Flag(help: "Print the outcome as JSON.") var json = false

        func run() throws {
            let r = try home.open()
            let task = try r.resolveID(id)
            let record = try r.record(task)
            if record?.entity == "opportunity" {
                // opps today lists a deal's next step by the deal's id: done by writing the next one.
                throw ReplicaError.invalid(
                    "\(id) is a deal, not a task: write its next step (opps set \(id) next_step=… next_step_due=YYYY-MM-DD), or clear its date (opps set \(id) next_step_due=)",
                    chinese: "\(id) 是商机，不是任务：写下新的下一步（opps set \(id) 下一步=… 下一步截止=YYYY-MM-DD），或清除截止日期（opps set \(id) 下一步截止=）")
            }
            guard let record, record.entity == "task" else { throw ReplicaError.invalid("\(id) is not a task", chinese: "\(id) 不是任务") }
            let words = home.words(r)
            let title = record["text"].canonicalText
            let result = try r.finishTask(task)
            guard !json, result.proposed.isEmpty else { return try report(result, json: json, r, words: words) }
            // Already done: the edit wrote nothing (an unchanged value is never written again).
            if result.applied.isEmpty {
                Console.out(words.say("task \"\(title)\" is already done", "任务「\(title)」已经完成了"))
                return
            }
            Console.out(words.say("task \"\(title)\" done (pending sync)", "任务「\(title)」已完成（待同步）"))
        }
    }
}
