import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct LeadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lead", abstract: "Marketing: work on leads.",
        discussion: "Example: opps lead add \"Beta pilot\" --company Beta --contact \"Li Wei\" --source event", subcommands: [Add.self, List.self])

    /// `opps lead list`: the leads (the hand-off's first stage) with what each still lacks to be
    /// handed off, and the ones handed off with their owner once the hub assigned one.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the leads here, with what each still needs before its hand-off, and the ones handed off.",
            discussion: """
                A lead the rep sent back (moved back from the hand-off's second stage) says so, and under the \
                list who sent it back, when, and why.

                Example: opps lead list
                """)

        @OptionGroup var home: HomeOption

        @Flag(help: "Print one JSON array: id, stage, name, source, missing (fields the hand-off still needs), owner, sent_back (by, date, reason).")
        var json = false

        func run() throws {
            let r = try home.open()
            let words = home.words(r)
            let say = words.say
            guard let (handoff, leads) = try r.leads() else {
                throw ReplicaError.invalid("this workspace hands no leads off (it has no hand-off)", chinese: "这个工作区没有线索交接")
            }
            let short = try r.shortIDs()
            if json {
                Console.out(
                    JSON.array(
                        try leads.map { lead, missing in
                            JSON.object([
                                ("id", .string(lead.id.description)), ("stage", .string(lead["stage"].canonicalText)), ("name", .string(lead["name"].canonicalText)),
                                ("source", lead["lead_source"].isNull ? .null : .string(lead["lead_source"].canonicalText)),
                                ("missing", .array(missing.map { .string($0) })), ("owner", lead.owner.map { .string($0) } ?? .null),
                                (
                                    "sent_back",
                                    try r.sentBack(lead).map { back in
                                        JSON.object([
                                            ("by", back.by.map { .string($0) } ?? .null), ("date", .string(LocalTime.date(back.at).description)),
                                            ("reason", back.reason.map { .string($0) } ?? .null),
                                        ])
                                    } ?? .null
                                ),
                            ])
                        }
                    ).compactText)
                return
            }
            guard !leads.isEmpty else {
                Console.out(say("no leads here: add one with opps lead add NAME --company COMPANY", "这里还没有线索：用 opps lead add 名称 --company 公司 新增"))
                return
            }
            let idWidth = leads.map { short($0.lead.id).count }.max() ?? ShortID.length
            let (stageHead, nameHead) = (words.header("opportunity", "stage"), words.header("opportunity", "name"))
            Console.out("\("ID".padding(idWidth))  \(fit(stageHead, 11))  \(fit(nameHead, 30))  \(fit(say("SOURCE", "来源"), 10))  \(say("HAND-OFF", "交接"))")
            for (lead, missing) in leads {
                let source = lead["lead_source"].isNull ? "-" : words.value("opportunity", "lead_source", lead["lead_source"])
                Console.out(
                    "\(short(lead.id).padding(idWidth))  \(fit(words.value("opportunity", "stage", lead["stage"]), 11))  \(fit(lead["name"].canonicalText, 30))  \(fit(source, 10))  \(try state(lead, missing, handoff, r, say))"
                        .trimmingTrailing())
            }
            // The leads sent back: when, by whom (to a reader who may see it), why — a line each,
            // continued under itself.
            let back = try leads.compactMap { lead, _ in try r.sentBack(lead).map { (lead, $0) } }
            if !back.isEmpty {
                let today = localToday()
                Console.out(say("sent back:", "被退回的线索："))
                for (lead, sent) in back {
                    let day = shortDay(LocalTime.date(sent.at), today: today)
                    let why = sent.reason.map { say(": \($0)", "，\($0)") } ?? ""
                    let who = sent.by.map { say("\($0), ", "\($0) ") } ?? ""
                    Console.out(hanging("  \(short(lead.id))  ", lead["name"].canonicalText + say(": \(who)\(day)\(why)", "：\(who)\(day) 退回\(why)")))
                }
                // How to hand one off again, to a reader who may (the marketer, not the rep who sent it back).
                if try back.contains(where: { try r.access(to: $0.0, field: "stage") >= .write }) {
                    Console.out(say("  hand one off again: opps stage ID \(handoff.to)", "  再次交接：opps stage ID \(words.stage(handoff.to))"))
                }
            }
            // What the leads still need, once, in the workspace's order, and the two commands.
            let lacking = Set(leads.flatMap(\.missing))
            let fields = (r.workspace.entity("opportunity")?.fields ?? []).map(\.name).filter { lacking.contains($0) }.map { words.field("opportunity", $0) }
            guard !fields.isEmpty else { return }
            // Two lines, each within the terminal: the fields, then the commands (a command is never
            // broken inside: 字段=值 split over two lines at 80 columns).
            let needs = say("a lead's hand-off needs \(fields.joined(separator: ", "))", "交接前要填：\(fields.joined(separator: "、"))")
            Console.out(needs.wrapped(width: Console.width).joined(separator: "\n"))
            Console.out(say("  opps set ID FIELD=VALUE, then opps stage ID \(handoff.to)", "  opps set ID 字段=值，再 opps stage ID \(words.stage(handoff.to))"))
        }

        /// A lead's column: ready, or how many fields it lacks; one handed off, to whom — only when
        /// this reader may see the owner (marketing does not, past the hand-off).
        func state(_ lead: Record, _ missing: [String], _ handoff: Handoff, _ r: Replica, _ say: Phrases) throws -> String {
            if lead["stage"] == .member(handoff.from) {
                if try r.sentBack(lead) != nil { return say("sent back", "被退回") }
                return missing.isEmpty ? say("ready", "可以交接") : say("needs \(missing.count)", "还缺 \(missing.count) 项")
            }
            guard try r.accessByField(to: lead)["owner", default: .hidden] != .hidden else { return say("handed off", "已交接") }
            return lead.owner.map { say("to \($0)", "已交给 \($0)") } ?? say("to be assigned", "等待分配")
        }
    }

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

        @Option(
            help:
                "The territory: the hub gives the lead to this territory's reps in turn (default: its company's; with neither, to every territory's reps in turn)."
        )
        var territory: String?

        @Flag(help: "Add it even when the company has an open lead or deal here with a name that looks the same.")
        var allowDuplicate = false

        @OptionGroup var home: HomeOption

        @Flag(help: "Print the new record, as show --json does.")
        var json = false

        func run() throws {
            let r = try home.open()
            var rng = SystemRandomNumberGenerator()
            let entity = r.workspace.entity("opportunity")!
            let name = name.joined(separator: " ")
            var made: [(entity: String, id: RecordID)] = []
            let id: RecordID = try r.store.transaction {
                // The territory decides which reps the hub hands the lead to: the one given (a new
                // account is made with it too), else the account's.
                let given = territory.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
                let accountHasTerritory = r.workspace.entity("account")?.field("territory") != nil
                let account = try r.findOrMake(
                    entity: "account", text: company, extra: given.flatMap { accountHasTerritory ? [("territory", .text($0))] : nil } ?? [], using: &rng)
                if account.made { made.append(("account", account.id)) }
                if !account.made, !allowDuplicate { try r.refuseLikelyDuplicateDeal(named: name, at: account.id) }
                var fields: [(String, Value)] = [("name", .text(name)), ("account", .reference(account.id))]
                if let contact {
                    let person = try r.findOrMake(entity: "contact", text: contact, extra: [("account", .reference(account.id))], using: &rng)
                    if person.made { made.append(("contact", person.id)) }
                    fields.append(("contact", .reference(person.id)))
                }
                if let source { fields.append(("lead_source", try r.parse(source, for: entity.field("lead_source")!, of: entity.name))) }
                if entity.field("territory") != nil {
                    let held: String? = if case let .text(t)? = try r.record(account.id)?["territory"], !t.isEmpty { t } else { nil }
                    if let t = given ?? held { fields.append(("territory", .text(t))) }
                }
                return try r.create(entity: "opportunity", stage: "lead", fields: fields, using: &rng).record
            }
            let words = home.words(r)
            try printRecord(r, id, json: json, short: true, words: words)
            guard !json else { return }
            // The account and contact the names made (not found), and what the hand-off needs.
            for (kind, madeID) in made { try sayMade(r, words, kind, madeID) }
            if let lead = try r.record(id), let line = nextGate(lead, code: try r.shortIDs()(id), words: words) { Console.out(commandHanging(line)) }
        }
    }
}

extension LeadCommand.Add: HintsAfterError {
    func hint(for error: ReplicaError, words: Vocabulary) -> String? { newRecordHint(for: error, words: words, deal: "opps lead add", account: "--company") }
}
