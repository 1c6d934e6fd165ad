import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Who you are, which hub, when you last synced, what waits to sync.", discussion: "Example: opps status")

    @OptionGroup var home: HomeOption

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let r = try home.open()
        let last = try r.store.meta("last_sync").flatMap(Int64.init).map { Timestamp(milliseconds: $0).description }
        let pending = try r.store.outboxCount()
        let conflicts = try r.store.conflicts().count
        if json {
            Console.out(
                JSON.object([
                    ("user", .string(r.user)), ("role", .string(r.role)), ("hub", .string(r.hubURL)), ("replica", .string(r.id.description)),
                    ("last_sync", last.map(JSON.string) ?? .null), ("pending", .number(pending)), ("conflicts", .number(conflicts)),
                    ("records", .number(try r.store.recordCount())), ("workspace_version", .number(Int64(r.workspace.version))),
                ]).compactText)
        } else {
            Console.out(
                """
                user      \(r.user) (\(r.role))
                hub       \(r.hubURL)
                last sync \(last ?? "never")
                pending   \(pending) write(s)
                conflicts \(conflicts)
                records   \(try r.store.recordCount())
                """)
        }
    }
}
