import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Who you are, which hub, when you last synced, what waits to sync.",
        discussion: "An approver also sees how many requests wait for their decision.\n\nExample: opps status")

    @OptionGroup var home: HomeOption

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let r = try home.open()
        let lastMilliseconds = try r.store.meta(Replica.lastSyncKey).flatMap(Int64.init)
        let last = lastMilliseconds.map { Timestamp(milliseconds: $0).description }
        let pending = try r.store.outboxCount(), edits = try r.store.editCount()
        let conflicts = try r.store.conflicts().count
        let awaiting = try r.awaitingDecision()
        if json {
            Console.out(
                try StatusJSON(
                    user: r.user, role: r.role, hub: r.hubURL, replica: r.id.description, last_sync: last, pending: pending, pending_edits: edits, conflicts: conflicts,
                    awaiting_decision: awaiting, records: try r.store.recordCount(), workspace_version: r.workspace.version
                ).jsonLine())
        } else {
            let words = home.words(r)
            let say = words.say
            Console.out(
                say.status(
                    user: say("\(r.user) (\(words.role(r.role)))", "\(r.user)（\(words.role(r.role))）"), hub: r.hubURL, lastSync: lastMilliseconds,
                    now: SystemClock().nowMilliseconds(), pending: edits, conflicts: conflicts, awaiting: awaiting, records: try r.store.recordCount()))
        }
    }
}
