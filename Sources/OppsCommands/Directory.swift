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
        subcommands: [ListAccounts.self, ShowAccount.self, NewAccount.self], defaultSubcommand: ListAccounts.self)
}

struct ContactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contact", abstract: "Contacts (people at accounts): list, show with their deals, add.",
        discussion: "Change a contact's fields with opps set ID FIELD=VALUE.\n\nExample: opps contact new \"Li Wei\" --account 上海云帆 title=CIO",
        subcommands: [ListContacts.self, ShowContact.self, NewContact.self], defaultSubcommand: ListContacts.self)
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
        try printRecord(r, accountID, json: false)
        let short = try r.shortIDs()
        let its = try deals(r, referencing: accountID, in: "account")
        Console.out("  deals (\(its.count))")
        for d in its {
            Console.out("    \(short(d.id))  \(d["stage"].canonicalText.padding(11))  \(fit(d["name"].canonicalText, 28))  \(amountText(d))")
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
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the new record as JSON.") var json = false

    func run() throws {
        let r = try home.open()
        if try directory(r, "account", search: nil).contains(where: { $0["name"].canonicalText.lowercased() == name.lowercased() }) {
            throw ReplicaError.invalid("an account named \"\(name)\" is already here: opps account show \"\(name)\"")
        }
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
        try printRecord(r, contactID, json: false)
        let short = try r.shortIDs()
        let its = try deals(r, referencing: contactID, in: "contact")
        Console.out("  deals (\(its.count))")
        for d in its { Console.out("    \(short(d.id))  \(d["stage"].canonicalText.padding(11))  \(d["name"].canonicalText)") }
    }
}

struct NewContact: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "new", abstract: "Add a contact at an account (offline too).",
                                                    discussion: "Example: opps contact new \"Li Wei\" --account 上海云帆 title=CIO phone=13800000000")
    @Argument(help: "The contact's name.") var name: String
    @Option(help: "The account: its short id or exact name (made when there is none of that name).") var account: String
    @Argument(help: "More fields as FIELD=VALUE (email, phone, title).") var fields: [String] = []
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the new record as JSON.") var json = false

    func run() throws {
        let r = try home.open()
        var rng = SystemRandomNumberGenerator()
        let made: RecordID = try r.store.transaction {
            let accountID = try findOrCreate(r, entity: "account", text: account, rng: &rng)
            return try r.create(entity: "contact", stage: nil, fields: [("name", .text(name)), ("account", .reference(accountID))] + assignments(r, "contact", fields),
                                using: &rng).record
        }
        try printRecord(r, made, json: json, short: !json)
    }
}
