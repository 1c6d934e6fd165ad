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
        discussion: "Example: opps task add 7dka36sd \"send the quote\" --due 2026-12-04", subcommands: [Add.self, Done.self])

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
            guard let entity = r.workspace.entity("task") else { throw ReplicaError.invalid("this workspace has no tasks") }
            var rng = SystemRandomNumberGenerator()
            let result = try r.create(
                entity: "task", stage: nil,
                fields: [
                    ("opportunity", .reference(deal)), ("text", .text(text)), ("due", try r.parse(due, for: entity.field("due")!)),
                    ("assignee", .text(assignee ?? r.user)), ("done", .boolean(false)),
                ], using: &rng)
            try printRecord(r, result.record, json: json, short: !json)
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
            guard try r.record(task)?.entity == "task" else { throw ReplicaError.invalid("\(id) is not a task") }
            try report(try r.edit(task, [("done", .boolean(true))]), json: json, r)
        }
    }
}
