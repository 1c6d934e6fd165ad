import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// A kind of record made twice offline that a manager merges: accounts and contacts
/// (`opps account duplicates|merge`), deals (`opps duplicates|merge`).
protocol DirectoryKind {
    static var entity: String { get }
    /// The command `duplicates` and `merge` hang off: `opps account`, or `opps` for deals.
    static var command: String { get }
    /// Its word in English sentences ("a deal", "the accounts").
    static var noun: String { get }
    /// What names a record of this kind and follows it to the one kept, for `merge --help`.
    static var namedBy: String { get }
    /// What else `merge --help` says of this kind (after a space), or nothing.
    static var mergeNote: String { get }
}

extension DirectoryKind {
    static var mergeNote: String { "" }
    /// "客户", "商机": the kind in Chinese sentences.
    static var chineseNoun: String { Workspace.default.entity(entity)?.labels["zh-CN"] ?? noun }
    /// "an account", "a deal".
    static var aNoun: String { ("aeiou".contains(noun.first ?? "x") ? "an " : "a ") + noun }
}

enum AccountKind: DirectoryKind {
    static let entity = "account"
    static let command = "opps account"
    static let noun = "account"
    static let namedBy = "deals, contacts"
}

enum ContactKind: DirectoryKind {
    static let entity = "contact"
    static let command = "opps contact"
    static let noun = "contact"
    static let namedBy = "deals"
}

enum DealKind: DirectoryKind {
    static let entity = "opportunity"
    static let command = "opps"
    static let noun = "deal"
    static let namedBy = "activities, tasks, requests, team members"
    static let mergeNote = """
         A deal's stage is its own: keep the one furthest along (opps duplicates lists it first). A deal \
        with a request waiting for a decision is merged once the request is decided or withdrawn.
        """
}

struct DuplicatesCommand<Kind: DirectoryKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "duplicates", abstract: "List likely duplicate \(Kind.entity)s here (made twice, often offline on two laptops).",
            discussion: """
                Names compared in any case and width, without spaces, punctuation and legal forms ("Omega Ltd." is \
                "Omega"); contacts also by email and phone. Merge with \
                opps \(Kind.entity) merge KEEP DUPLICATE.

                Example: opps \(Kind.entity) duplicates
                """)
    }
    @OptionGroup var home: HomeOption
    @Flag(help: "Print a JSON array of groups, each an array of records.") var json = false

    func run() throws {
        let r = try home.open()
        let groups = Duplicates.groups(try r.store.list(entity: Kind.entity, workspace: r.workspace))
        if json { Console.out(JSON.array(groups.map { JSON.array($0.map { recordJSON(r, $0) }) }).compactText); return }
        let words = home.words(r)
        let say = words.say
        // English says the entity's name ("accounts"); Chinese its label (客户).
        let label = say.chinese ? words.entity(Kind.entity) : Kind.entity
        if groups.isEmpty { Console.out(say.noDuplicates(label)); return }
        let short = try r.shortIDs()
        // The deals naming each record of a group, counted in one pass, one deal at a time.
        let grouped = Set(groups.flatMap { $0.map(\.id) })
        var counts = [RecordID: Int]()
        try r.store.forEach(entity: "opportunity", workspace: r.workspace) { deal in
            for id in Set(deal.fields.values.compactMap { if case let .reference(id) = $0.value, grouped.contains(id) { id } else { nil } }) {
                counts[id, default: 0] += 1
            }
        }
        for (i, group) in groups.enumerated() {
            Console.out(say.duplicateGroup(i + 1, count: group.count, label))
            for rec in group {
                let deals = counts[rec.id] ?? 0
                Console.out("   \(short(rec.id))  \(fit(rec["name"].canonicalText, 28))  " + say.byWithDeals(rec.creator, deals: deals))
            }
            Console.out("   \(say.merge)\(say(": ", "："))\(mergeLine(Kind.command, group, short))")
        }
    }
}

/// `opps duplicates`: open deals here that look made twice — the same account and a name that
/// looks the same — most often a rep's and their manager's, each made offline. Each group with
/// the line that merges it, keeping the one furthest along.
struct DealDuplicatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplicates", abstract: "List open deals here that look made twice (often on two laptops).",
        discussion: """
            Two open deals of one account whose names look the same: any case and width, without spaces or \
            punctuation ("ACME CRM rollout!" is "Acme crm-rollout"). Closed deals are not counted (a renewal may \
            carry last year's name). Each group lists the deal furthest along first, the one its merge line \
            keeps; a manager merges with opps merge KEEP DUPLICATE.

            Example: opps duplicates
            """)
    @OptionGroup var home: HomeOption
    @Flag(help: "Print a JSON array of groups, each an array of deals.") var json = false

    func run() throws {
        let r = try home.open()
        let groups = try r.likelyDuplicateDeals()
        if json { Console.out(JSON.array(groups.map { JSON.array($0.map { recordJSON(r, $0) }) }).compactText); return }
        let words = home.words(r)
        let say = words.say
        let label = words.entity("opportunity")
        if groups.isEmpty { Console.out(say.noDuplicates(say.chinese ? label : "deal")); return }
        let short = try r.shortIDs()
        for (i, group) in groups.enumerated() {
            var account: String?
            if case let .reference(id) = group[0]["account"] { account = try r.record(id)?["name"].canonicalText }
            Console.out(say.duplicateDeals(i + 1, count: group.count, label, account: account))
            for deal in group {
                let line =
                    "   \(short(deal.id))  \(fit(words.value("opportunity", "stage", deal["stage"]), 11))  \(fit(deal["name"].canonicalText, 26))  "
                    + "\(fit(deal.owner ?? "-", 8))  \(amountText(deal))"
                Console.out(line.trimmingTrailing())
            }
            // One who may not merge (a rep) reads who does, with the line to hand over.
            let line = mergeLine(DealKind.command, group, short)
            Console.out("   " + (r.mayMergeDeals ? "\(say.merge)\(say(": ", "："))\(line)" : say("a manager merges them: \(line)", "由经理合并：\(line)")))
        }
    }
}

/// The line that merges a group of duplicates into its first: `opps account merge KEEP DUP…`
/// (`opps duplicates`, `opps account duplicates`, `opps show` of a deal made twice).
func mergeLine(_ command: String, _ group: [Record], _ short: ShortIDs) -> String {
    "\(command) merge " + group.map { short($0.id) }.joined(separator: " ")
}
