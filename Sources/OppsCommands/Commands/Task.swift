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
        discussion: "Example: opps task add 7dka36sd \"send the quote\" --due 2026-12-04", subcommands: [Add.self, List.self, Done.self], defaultSubcommand: Add.self)

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a task to a deal.", discussion: "Example: opps task add 7dka36sd \"send the quote\" --due 2026-12-04")
        @Argument(help: "The deal: its short id as opps list prints it, or its exact name.") var id: String
        @Argument(help: "What to do (words typed without quotes are joined with spaces).") var text: [String]
        @Option(help: ArgumentHelp("Due date, YYYY-MM-DD (or 12-05, tomorrow, friday, next monday, in 3 days, end of month).", valueName: "date"))
        var due: String
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

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Your open tasks (yours to do, and those you gave others) by due date; or every task of one deal.",
            discussion: "Example: opps task list; opps task list 7dka36sd")
        @Argument(help: "A deal: its short id or exact name, to list its tasks (done ones too).") var deal: String?
        @OptionGroup var home: HomeOption
        @Flag(help: "Print a JSON array: id, deal, text, due, assignee, done.") var json = false

        func run() throws {
            let r = try home.open()
            let deal = try self.deal.map { try dealID(r, $0, reading: true) }
            let tasks = try r.tasks(on: deal)
            if json {
                Console.out(
                    try tasks.map {
                        TaskJSON(id: $0.id.description, deal: $0.deal?.description, text: $0.text, due: $0.due?.description, assignee: $0.assignee, done: $0.done)
                    }.jsonLine())
                return
            }
            let say = home.words(r).say
            let short = try r.shortIDs()
            let dealName = try deal.flatMap { try r.record($0) }.map { $0["name"].canonicalText }
            guard !tasks.isEmpty else {
                Console.out(hanging("", say.noTasks(deal: dealName, id: deal.map { short($0) })))
                return
            }
            Console.out(say.tasksTitle(deal: dealName, count: tasks.count, done: tasks.count(where: \.done)))
            // A task a line: its id to type back, its day and weekday, whether it is late, today or
            // done, then (without a deal named) its deal, what to do, and whose it is when not
            // the reader's — continued under itself when long.
            let today = localToday()
            let states = tasks.map { t in t.done ? say.taskDone : t.due.map { $0 < today ? say.overdueWord : $0 == today ? say.todayWord : "" } ?? "" }
            let stateWidth = states.map(\.displayWidth).max() ?? 0
            let days = tasks.map { t in t.due.map { "\(shortDay($0, today: today)) \(say.weekday($0))" } ?? "" }
            let dayWidth = days.map(\.displayWidth).max() ?? 0
            for ((t, state), day) in zip(zip(tasks, states), days) {
                let on = deal == nil ? (try t.deal.flatMap { try r.record($0) }.map { $0["name"].canonicalText + (say.chinese ? "：" : ": ") } ?? "") : ""
                let whose = t.assignee.flatMap { $0 == r.user ? nil : say.doneBy($0) } ?? ""
                Console.out(hanging("  \(short(t.id))  \(day.padding(dayWidth))  \(state.padding(stateWidth))  ", on + t.text + whose))
            }
            // Done is offered where it can be done: not when every open task is someone else's
            // to keep (an expert's are only hers).
            let markable = try tasks.contains { t in try !t.done && (r.record(t.id).map { try r.access(to: $0, field: "done") >= .write } ?? false) }
            Console.out(say.taskCommands(deal: deal.map { short($0) }, markable: markable))
        }
    }

    struct Done: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a task done.", discussion: "Example: opps task done k3m9x2qa (or opps task done \"send the quote\")")
        @Argument(help: "The task: its short id as opps task list, opps today or opps show prints it, or the text of one of your open tasks.") var id: String
        @OptionGroup var home: HomeOption
        @Flag(help: "Print the outcome as JSON.") var json = false

        func run() throws {
            let r = try home.open()
            let task = try r.resolveTask(id)
            let record = try r.record(task)
            if record?.entity == "opportunity" {
                // opps today lists a deal's next step by the deal's id: done by writing the next one.
                let code = try r.shortIDs()(task)
                throw ReplicaError.invalid(
                    "\(id) is a deal, not a task: write its next step (opps set \(code) next_step=… next_step_due=YYYY-MM-DD), or clear its date (opps set \(code) next_step_due=)",
                    chinese: "\(id) 是商机，不是任务：写下新的下一步（opps set \(code) 下一步=… 下一步截止=YYYY-MM-DD），或清除截止日期（opps set \(code) 下一步截止=）")
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
