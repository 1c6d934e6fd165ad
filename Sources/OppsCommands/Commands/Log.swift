import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// `opps log`: an activity on a deal — append-only, stamped with device time, merged as a union.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Log a call, visit, email, meeting or check-in on a deal (works offline; activities are never overwritten).",
        discussion: "Example: opps log 7dka36sd --kind visit --place \"Beta HQ\" --note \"met the CFO\"")

    @Argument(help: "The deal: its short id as opps list prints it, or its exact name.") var id: String
    @Option(help: "call, visit, email, meeting, checkin or note.") var kind: String
    @Option(help: "What happened.") var note: String?
    @Option(help: "When (UTC, YYYY-MM-DDTHH:MM:SSZ); default: now, by this device's clock.") var at: String?
    @Option(help: "Where (for visits and check-ins).") var place: String?
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the new activity as JSON.") var json = false

    func run() throws {
        let r = try home.open()
        let deal = try dealID(r, id)
        guard let entity = r.workspace.entity("activity") else { throw ReplicaError.invalid("this workspace has no activities") }
        let when = try at.map { try r.parse($0, for: entity.field("at")!, of: entity.name) } ?? .timestamp(deviceNow())
        let result = try r.logActivity(deal: deal, kind: kind, at: when, note: note, place: place)
        try printRecord(r, result.record, json: json, short: !json, words: home.words(r))
    }
}
