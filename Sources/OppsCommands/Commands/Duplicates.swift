import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

protocol DirectoryKind { static var entity: String { get } }

enum AccountKind: DirectoryKind { static let entity = "account" }

enum ContactKind: DirectoryKind { static let entity = "contact" }

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
            Console.out("   \(say.merge): opps \(Kind.entity) merge \(short(group[0].id)) \(group.dropFirst().map { short($0.id) }.joined(separator: " "))")
        }
    }
}
