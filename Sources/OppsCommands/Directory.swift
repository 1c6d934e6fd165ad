import ArgumentParser
import OppsConsole
import OppsCore
import OppsReplica

/// `opps account …` and `opps contact …` (issue 15): the customers a rep works with, as records of
/// their own — listed with their deals, shown with everything that points at them, made offline.
/// Field changes go through `opps set`, like any record.
struct AccountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Accounts (customers): list, show with their deals and contacts, add.",
        discussion: "Change an account's fields with opps set ID FIELD=VALUE.\n\nExample: opps account show 上海云帆",
        subcommands: [ListAccounts.self, ShowAccount.self, NewAccount.self, DuplicatesCommand<AccountKind>.self, MergeCommand<AccountKind>.self],
        defaultSubcommand: ListAccounts.self)
}

struct ContactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contact", abstract: "Contacts (people at accounts): list, show with their deals, add.",
        discussion: "Change a contact's fields with opps set ID FIELD=VALUE.\n\nExample: opps contact new \"Li Wei\" --account 上海云帆 title=CIO",
        subcommands: [ListContacts.self, ShowContact.self, NewContact.self, DuplicatesCommand<ContactKind>.self, MergeCommand<ContactKind>.self],
        defaultSubcommand: ListContacts.self)
}

/// The records of `entity` this laptop holds, optionally those whose name contains `search`
/// (any case), by name.
func directory(_ r: Replica, _ entity: String, search: String?) throws -> [Record] {
    let needle = search?.lowercased()
    return try r.store.list(entity: entity, workspace: r.workspace)
        .filter { needle == nil || $0["name"].canonicalText.lowercased().contains(needle!) }
        .sorted { $0["name"].canonicalText < $1["name"].canonicalText }
}

/// The deals on this laptop that name `id` in `field`.
func deals(_ r: Replica, referencing id: RecordID, in field: String) throws -> [Record] {
    try r.store.list(entity: "opportunity", workspace: r.workspace).filter { $0[field] == .reference(id) }
}

/// A record's name, or its short id when it has none.
func name(of id: RecordID?, _ r: Replica, _ short: ShortIDs) throws -> String {
    guard let id else { return "-" }
    guard let record = try r.record(id) else { return short(id) }
    return record["name"].isNull ? short(id) : record["name"].canonicalText
}

/// Parses FIELD=VALUE assignments for `entity`, one clear line for a bad one.
func assignments(_ r: Replica, _ entity: String, _ texts: [String]) throws -> [(String, Value)] {
    guard let e = r.workspace.entity(entity) else { throw ReplicaError.invalid("no \(entity) in this workspace") }
    return try texts.map { text in
        guard let eq = text.firstIndex(of: "=") else { throw ReplicaError.invalid("\"\(text)\" is not FIELD=VALUE") }
        let name = String(text[..<eq])
        guard let field = e.field(input: name) else {
            throw ReplicaError.invalid("\(entity) has no field \"\(name)\" (fields: \(e.fields.map(\.name).joined(separator: ", ")))")
        }
        return (field.name, try r.parse(String(text[text.index(after: eq)...]), for: field))
    }
}

struct ListAccounts: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the accounts on this laptop, with how many deals each has.",
                                                    discussion: "Example: opps account list --search 物流")
    @Option(help: "Only accounts whose name contains this text (any case).") var search: String?
    @OptionGroup var home: HomeOption
    @Flag(help: "Print a JSON array of records.") var json = false

    func run() throws {
        let r = try home.open()
        let accounts = try directory(r, "account", search: search)
        if json { Console.out(JSON.array(accounts.map { recordJSON(r, $0) }).compactText); return }
        if accounts.isEmpty { Console.out(search == nil ? "no accounts on this laptop yet: opps account new NAME makes one" : "no account here matches \"\(search!)\""); return }
        let short = try r.shortIDs()
        let all = try r.store.list(entity: "opportunity", workspace: r.workspace)
        Console.out("\("ID".padding(ShortID.length))  \(fit("NAME", 30))  \(fit("INDUSTRY", 16))  \(fit("TERRITORY", 10))  DEALS")
        for a in accounts {
            let count = all.filter { $0["account"] == .reference(a.id) }.count
            Console.out("\(short(a.id).padding(ShortID.length))  \(fit(a["name"].canonicalText, 30))  \(fit(a["industry"].isNull ? "" : a["industry"].canonicalText, 16))  \(fit(a["territory"].isNull ? "" : a["territory"].canonicalText, 10))  \(count)")
        }
    }
}

struct ShowAccount: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an account with its deals and contacts.",
                                                    discussion: "Example: opps account show 上海云帆")
    @Argument(help: "The account: its short id or exact name.") var id: String
    @OptionGroup var home: HomeOption

    func run() throws {
        let r = try home.open()
        let accountID = try r.resolveID(id)
        guard let account = try r.record(accountID), account.entity == "account" else { throw ReplicaError.invalid("\(id) is not an account") }
        let words = home.words(r)
        try printRecord(r, accountID, json: false, words: words)
        let short = try r.shortIDs()
        let its = try deals(r, referencing: accountID, in: "account")
        Console.out("  deals (\(its.count))")
        for d in its {
            Console.out("    \(short(d.id))  \(fit(words.value("opportunity", "stage", d["stage"]), 11))  \(fit(d["name"].canonicalText, 28))  \(amountText(d))")
        }
        let people = try r.store.list(entity: "contact", workspace: r.workspace).filter { $0["account"] == .reference(accountID) }
        Console.out("  contacts (\(people.count))")
        for c in people { Console.out("    \(short(c.id))  \(fit(c["name"].canonicalText, 20))  \(c["title"].isNull ? "" : c["title"].canonicalText)") }
    }
}

struct NewAccount: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "new", abstract: "Add an account (offline too; it syncs like everything else).",
                                                    discussion: "Example: opps account new 上海云帆 industry=物流 territory=east")
    @Argument(help: "The account's name.") var name: String
    @Argument(help: "More fields as FIELD=VALUE (industry, website, territory).") var fields: [String] = []
    @Flag(help: "Make it even when an account here has a name that looks the same (\"Omega Ltd.\" for \"Omega\").") var allowDuplicate = false
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the new record as JSON.") var json = false

    func run() throws {
        let r = try home.open()
        let existing = try directory(r, "account", search: nil)
        if existing.contains(where: { $0["name"].canonicalText.lowercased() == name.lowercased() }) {
            throw ReplicaError.invalid("an account named \"\(name)\" is already here: opps account show \"\(name)\"")
        }
        if !allowDuplicate { try refuseLikelyDuplicate(r, entity: "account", [("name", .text(name))], among: existing) }
        var rng = SystemRandomNumberGenerator()
        let made = try r.create(entity: "account", stage: nil, fields: [("name", .text(name))] + assignments(r, "account", fields), using: &rng)
        try printRecord(r, made.record, json: json, short: !json)
    }
}

struct ListContacts: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the contacts on this laptop, with their accounts.",
                                                    discussion: "Example: opps contact list --search li")
    @Option(help: "Only contacts whose name contains this text (any case).") var search: String?
    @OptionGroup var home: HomeOption
    @Flag(help: "Print a JSON array of records.") var json = false

    func run() throws {
        let r = try home.open()
        let contacts = try directory(r, "contact", search: search)
        if json { Console.out(JSON.array(contacts.map { recordJSON(r, $0) }).compactText); return }
        if contacts.isEmpty { Console.out(search == nil ? "no contacts on this laptop yet: opps contact new NAME --account ACCOUNT makes one" : "no contact here matches \"\(search!)\""); return }
        let short = try r.shortIDs()
        Console.out("\("ID".padding(ShortID.length))  \(fit("NAME", 20))  \(fit("ACCOUNT", 22))  \(fit("TITLE", 14))  PHONE")
        for c in contacts {
            let account: RecordID? = if case let .reference(a) = c["account"] { a } else { nil }
            Console.out("\(short(c.id).padding(ShortID.length))  \(fit(c["name"].canonicalText, 20))  \(fit(try name(of: account, r, short), 22))  \(fit(c["title"].isNull ? "" : c["title"].canonicalText, 14))  \(c["phone"].isNull ? "" : c["phone"].canonicalText)")
        }
    }
}

struct ShowContact: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a contact with the deals they are the contact of.",
                                                    discussion: "Example: opps contact show \"Li Wei\"")
    @Argument(help: "The contact: their short id or exact name.") var id: String
    @OptionGroup var home: HomeOption

    func run() throws {
        let r = try home.open()
        let contactID = try r.resolveID(id)
        guard let contact = try r.record(contactID), contact.entity == "contact" else { throw ReplicaError.invalid("\(id) is not a contact") }
        let words = home.words(r)
        try printRecord(r, contactID, json: false, words: words)
        let short = try r.shortIDs()
        let its = try deals(r, referencing: contactID, in: "contact")
        Console.out("  deals (\(its.count))")
        for d in its { Console.out("    \(short(d.id))  \(fit(words.value("opportunity", "stage", d["stage"]), 11))  \(d["name"].canonicalText)") }
    }
}

struct NewContact: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "new", abstract: "Add a contact at an account (offline too).",
                                                    discussion: "Example: opps contact new \"Li Wei\" --account 上海云帆 title=CIO phone=13800000000")
    @Argument(help: "The contact's name.") var name: String
    @Option(help: "The account: its short id or exact name (made when there is none of that name).") var account: String
    @Argument(help: "More fields as FIELD=VALUE (email, phone, title).") var fields: [String] = []
    @Flag(help: "Make it even when a contact here looks like the same person (same name at the account, same email or phone).") var allowDuplicate = false
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the new record as JSON.") var json = false

    func run() throws {
        let r = try home.open()
        var rng = SystemRandomNumberGenerator()
        let made: RecordID = try r.store.transaction {
            let accountID = try findOrCreate(r, entity: "account", text: account, rng: &rng)
            let values = [("name", Value.text(name)), ("account", .reference(accountID))] + (try assignments(r, "contact", fields))
            if !allowDuplicate { try refuseLikelyDuplicate(r, entity: "contact", values, among: try r.store.list(entity: "contact", workspace: r.workspace)) }
            return try r.create(entity: "contact", stage: nil, fields: values, using: &rng).record
        }
        try printRecord(r, made, json: json, short: !json)
    }
}

// MARK: - Duplicates and merging (merge-semantics.md §7.3)

protocol DirectoryKind { static var entity: String { get } }
enum AccountKind: DirectoryKind { static let entity = "account" }
enum ContactKind: DirectoryKind { static let entity = "contact" }

struct DuplicatesCommand<Kind: DirectoryKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "duplicates", abstract: "List likely duplicate \(Kind.entity)s here (made twice, often offline on two laptops).",
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

struct MergeCommand<Kind: DirectoryKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "merge", abstract: "Merge duplicate \(Kind.entity)s into one (those who may delete: managers, by default).",
                             discussion: """
                                 KEEP stays; each DUPLICATE is deleted after its values fill KEEP's empty fields and everything \
                                 here that names it (deals, contacts) names KEEP instead. At sync the hub re-points what \
                                 this laptop does not hold too, so no deal, contact or activity is lost; every step is an \
                                 ordinary synced write with your name on it (opps history shows them).

                                 Example: opps \(Kind.entity) merge 7dka36sd 3tqq0nqd
                                 """)
    }
    @Argument(help: "The \(Kind.entity) to keep: its short id or exact name.") var keep: String
    @Argument(help: "The duplicates to merge into it.") var duplicates: [String]
    @OptionGroup var home: HomeOption

    func validate() throws {
        if duplicates.isEmpty { throw ValidationError("give the \(Kind.entity) to keep, then at least one duplicate") }
    }

    func run() throws {
        let r = try home.open()
        func resolve(_ text: String) throws -> RecordID {
            let id = try r.resolveID(text)
            guard let record = try r.record(id) else { throw ReplicaError.invalid("\(text) is not on this laptop: opps \(Kind.entity) duplicates lists what is") }
            guard record.entity == Kind.entity else { throw ReplicaError.invalid("\(text) is not a\(Kind.entity == "account" ? "n" : "") \(Kind.entity)") }
            return id
        }
        let keepID = try resolve(keep)
        let ids = try duplicates.map(resolve)
        let short = try r.shortIDs()
        // All or nothing: one refusal leaves every record as it was.
        let results = try r.store.transaction { try ids.map { try r.merge($0, into: keepID) } }
        for (id, m) in zip(ids, results) {
            var what = ["\(m.repointed) record\(m.repointed == 1 ? "" : "s") re-pointed here"]
            if !m.filled.isEmpty { what.append("filled in " + m.filled.joined(separator: ", ")) }
            if m.leftToHub > 0 { what.append("\(m.leftToHub) left for the hub to re-point") }
            Console.out("merged \(short(id)) into \(short(keepID)): " + what.joined(separator: "; ") + " (pending sync)")
        }
    }
}
