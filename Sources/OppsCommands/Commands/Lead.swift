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
            discussion: "Example: opps lead list")

        @OptionGroup var home: HomeOption

        @Flag(help: "Print one JSON array: id, stage, name, source, missing (fields the hand-off still needs), owner.")
        var json = false

        func run() throws {
            let r = try home.open()
            let words = home.words(r)
            let ws = r.workspace
            let first = ws.handoff?.from ?? ws.stages.first?.name ?? "lead"
            let next = ws.handoff?.to ?? (ws.stageIndex(first).flatMap { $0 + 1 < ws.stages.count ? ws.stages[$0 + 1].name : nil } ?? first)
            let order = [first, next]
            let leads = try r.store.list(entity: "opportunity", workspace: ws)
                .filter { if case let .member(s) = $0["stage"] { order.contains(s) } else { false } }
                .sorted { a, b in
                    let (x, y) = (order.firstIndex(of: a["stage"].canonicalText) ?? 0, order.firstIndex(of: b["stage"].canonicalText) ?? 0)
                    return x != y ? x < y : a["name"].canonicalText.localizedStandardCompare(b["name"].canonicalText) == .orderedAscending
                }
            let short = try r.shortIDs()
            func missing(_ lead: Record) -> [String] { lead["stage"] == .member(first) ? ws.stageMoveMissing(of: lead, to: next, role: r.role) : [] }
            if json {
                Console.out(
                    JSON.array(
                        leads.map { lead in
                            JSON.object([
                                ("id", .string(lead.id.description)), ("stage", .string(lead["stage"].canonicalText)), ("name", .string(lead["name"].canonicalText)),
                                ("source", lead["lead_source"].isNull ? .null : .string(lead["lead_source"].canonicalText)),
                                ("missing", .array(missing(lead).map { .string($0) })), ("owner", lead.owner.map { .string($0) } ?? .null),
                            ])
                        }
                    ).compactText)
                return
            }
            let say = words.say
            guard !leads.isEmpty else {
                Console.out(say("no leads here: add one with opps lead add NAME --company COMPANY", "这里还没有线索：用 opps lead add 名称 --company 公司 新增")); return
            }
            let idWidth = leads.map { short($0.id).count }.max() ?? ShortID.length
            let (stageHead, nameHead) = (words.header("opportunity", "stage"), words.header("opportunity", "name"))
            Console.out("\("ID".padding(idWidth))  \(fit(stageHead, 11))  \(fit(nameHead, 30))  \(fit(say("SOURCE", "来源"), 10))  \(say("HAND-OFF", "交接"))")
            var lacking = Set<String>()
            for lead in leads {
                let lacks = missing(lead)
                lacking.formUnion(lacks)
                let state =
                    lead["stage"] == .member(first)
                    ? (lacks.isEmpty ? say("ready", "可以交接") : say("needs \(lacks.count)", "还缺 \(lacks.count) 项"))
                    // Whose it is, when this reader may see its owner (marketing does not, past the hand-off).
                    : try r.accessByField(to: lead)["owner", default: .hidden] == .hidden
                        ? say("handed off", "已交接") : lead.owner.map { say("to \($0)", "已交给 \($0)") } ?? say("to be assigned", "等待分配")
                let source = lead["lead_source"].isNull ? "-" : words.value("opportunity", "lead_source", lead["lead_source"])
                Console.out(
                    "\(short(lead.id).padding(idWidth))  \(fit(words.value("opportunity", "stage", lead["stage"]), 11))  \(fit(lead["name"].canonicalText, 30))  \(fit(source, 10))  \(state)"
                        .trimmingTrailing())
            }
            // What the leads still need, once, in the workspace's order, and the two commands.
            let fields = (ws.entity("opportunity")?.fields ?? []).map(\.name).filter { lacking.contains($0) }.map { words.field("opportunity", $0) }
            if !fields.isEmpty {
                Console.out(
                    say(
                        "a lead's hand-off needs \(fields.joined(separator: ", ")): opps set ID FIELD=VALUE, then opps stage ID \(next)",
                        "交接前要填：\(fields.joined(separator: "、"))（opps set ID 字段=值），再 opps stage ID \(words.stage(next))"))
            }
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
