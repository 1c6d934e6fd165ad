import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct LeadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lead", abstract: "Marketing: work on leads.",
        discussion: "Example: opps lead add \"Beta pilot\" --company Beta --contact \"Li Wei\" --source event", subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a lead (an opportunity in the lead stage) for a company.",
            discussion: "Example: opps lead add \"Beta pilot\" --company Beta --contact \"Li Wei\" --source event")

        @Argument(help: "The lead's name (words typed without quotes are joined with spaces).")
        var name: [String]

        @Option(help: "The company (an existing account's id or name, or a new one).")
        var company: String

        @Option(help: "The contact person's name.")
        var contact: String?

        @Option(help: "Where the lead came from: web, event, referral, campaign, cold_call, partner, other.")
        var source: String?

        @OptionGroup var home: HomeOption

        @Flag(help: "Print the new record, as show --json does.")
        var json = false

        func run() throws {
            let r = try home.open()
            var rng = SystemRandomNumberGenerator()
            let entity = r.workspace.entity("opportunity")!
            let id: RecordID = try r.store.transaction {
                let account = try r.findOrCreate(entity: "account", text: company, using: &rng)
                var fields: [(String, Value)] = [("name", .text(name.joined(separator: " "))), ("account", .reference(account))]
                if let contact {
                    fields.append(("contact", .reference(try r.findOrCreate(entity: "contact", text: contact, extra: [("account", .reference(account))], using: &rng))))
                }
                if let source { fields.append(("lead_source", try r.parse(source, for: entity.field("lead_source")!, of: entity.name))) }
                return try r.create(entity: "opportunity", stage: "lead", fields: fields, using: &rng).record
            }
            try printRecord(r, id, json: json, short: true, words: home.words(r))
        }
    }
}

extension LeadCommand.Add: HintsAfterError {
    func hint(for error: ReplicaError, words: Vocabulary) -> String? { newRecordHint(for: error, words: words) }
}
