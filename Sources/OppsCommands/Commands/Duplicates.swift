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
                "Omega", 上海云帆物流有限公司 is 上海云帆物流); contacts also by email and phone. Merge with \
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
        if groups.isEmpty { Console.out("no likely duplicate \(Kind.entity)s here"); return }
        let short = try r.shortIDs()
        let referencing = try r.store.list(entity: "opportunity", workspace: r.workspace)
        for (i, group) in groups.enumerated() {
            Console.out("\(i + 1). \(group.count) \(Kind.entity)s look like one:")
            for rec in group {
                let deals = referencing.filter { $0.fields.values.contains { $0.value == .reference(rec.id) } }.count
                Console.out("   \(short(rec.id))  \(fit(rec["name"].canonicalText, 28))  by \(fit(rec.creator, 8))  \(deals) deal\(deals == 1 ? "" : "s")")
            }
            Console.out("   merge: opps \(Kind.entity) merge \(short(group[0].id)) \(group.dropFirst().map { short($0.id) }.joined(separator: " "))")
        }
    }
}
