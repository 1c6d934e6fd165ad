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
        @Argument(help: "What to do.") var text: String
        @Option(help: "Due date, YYYY-MM-DD.") var due: String
        @Option(help: "Who does it (a user name); default: you.") var assignee: String?
        @OptionGroup var home: HomeOption
        @Flag(help: "Print the new task as JSON.") var json = false

        func run() throws {
            let r = try home.open()
            let deal = try dealID(r, id)
            let result = try r.addTask(deal: deal, text: text, due: due, assignee: assignee)
            try printRecord(r, result.record, json: json, short: !json, words: home.words(r))
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
            guard try r.record(task)?.entity == "task" else { throw ReplicaError.invalid("\(id) is not a task", chinese: "\(id) 不是任务") }
            try report(try r.finishTask(task), json: json, r, words: home.words(r))
        }
    }
}
