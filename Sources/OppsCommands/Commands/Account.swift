import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// `opps account …` and `opps contact …` (issue 15): the customers a rep works with, as records of
/// their own — listed with their deals, shown with everything that points at them, made offline.
/// Field changes go through `opps set`, like any record.
struct AccountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Accounts (customers): list, show with their deals and contacts, add.",
        discussion: "Change an account's fields with opps set ID FIELD=VALUE.\n\nExample: opps account show 上海云帆",
        subcommands: [AccountListCommand.self, AccountShowCommand.self, AccountNewCommand.self, DuplicatesCommand<AccountKind>.self, MergeCommand<AccountKind>.self],
        defaultSubcommand: AccountListCommand.self)
}

/// The text a deal, account or contact list searches for: typed as words (`opps list 物流`,
/// `opps account 物流`: the group's list is its default; a mistyped subcommand, `opps account
/// shwo 华为`, is caught before, as every command's is) or with --search; not both.
func searchedText(_ text: [String], _ search: String?, _ home: HomeOption) throws -> String? {
    if !text.isEmpty && search != nil { throw ValidationError(home.say("give the text or --search, not both", "搜索的文字和 --search 只能给一个")) }
    return search ?? (text.isEmpty ? nil : text.joined(separator: " "))
}

struct AccountListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the accounts on this laptop, with how many deals each has.",
        discussion: "Example: opps account list 物流 (or opps account 物流)")
    @Argument(help: "Text to search for, as --search takes it.") var text: [String] = []
    @Option(help: "Only accounts whose name contains this text (any case).") var search: String?
    @OptionGroup var home: HomeOption
    @Flag(help: "Print a JSON array of records.") var json = false

    func validate() throws { _ = try searchedText(text, search, home) }

    func run() throws {
        let r = try home.open()
        let search = try searchedText(text, self.search, home)
        let accounts = try directory(r, "account", search: search)
        if json { Console.out(JSON.array(accounts.map { recordJSON(r, $0) }).compactText); return }
        let words = home.words(r)
        if accounts.isEmpty {
            Console.out(search.map(words.say.noAccountMatches) ?? words.say.noAccountsYet); return
        }
        let short = try r.shortIDs()
        // Each account's deals, counted in one pass over the deals, one at a time.
        var counts = [RecordID: Int]()
        try r.store.forEach(entity: "opportunity", workspace: r.workspace) { if case let .reference(a) = $0["account"] { counts[a, default: 0] += 1 } }
        let h = { (field: String) in words.header("account", field) }
        Console.out("\("ID".padding(ShortID.length))  \(fit(h("name"), 30))  \(fit(h("industry"), 16))  \(fit(h("territory"), 10))  \(words.say("DEALS", "商机"))")
        for a in accounts {
            let count = counts[a.id] ?? 0
            Console.out(
                "\(short(a.id).padding(ShortID.length))  \(fit(a["name"].canonicalText, 30))  \(fit(a["industry"].isNull ? "" : a["industry"].canonicalText, 16))  \(fit(a["territory"].isNull ? "" : a["territory"].canonicalText, 10))  \(count)"
            )
        }
    }
}

struct AccountShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show an account with its deals and contacts.",
        discussion: "Example: opps account show 上海云帆")
    @Argument(help: "The account: its short id, its name, or a part of it only one account's name holds.") var id: String
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the account as show --json does, with its \"deals\" and \"contacts\" the same way.") var json = false

    func run() throws {
        let r = try home.open()
        let accountID = try r.resolveID(id, among: ["account"], reading: true)
        guard let account = try r.record(accountID), account.entity == "account" else { throw ReplicaError.invalid("\(id) is not an account", chinese: "\(id) 不是客户") }
        let its = try deals(r, referencing: accountID, in: "account")
        let people = try r.store.list(entity: "contact", workspace: r.workspace).filter { $0["account"] == .reference(accountID) }
        if json {
            Console.out(recordJSON(r, account, related: [("deals", its), ("contacts", people)]).compactText)
            return
        }
        let words = home.words(r)
        try printRecord(r, accountID, json: false, words: words)
        let short = try r.shortIDs()
        Console.out("  " + words.say.deals(its.count))
        for d in its {
            Console.out("    \(short(d.id))  \(fit(words.value("opportunity", "stage", d["stage"]), 11))  \(fit(d["name"].canonicalText, 28))  \(amountText(d))")
        }
        Console.out("  " + words.say.contacts(people.count))
        for c in people { Console.out("    \(short(c.id))  \(fit(c["name"].canonicalText, 20))  \(c["title"].isNull ? "" : c["title"].canonicalText)") }
    }
}

struct AccountNewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new", abstract: "Add an account (offline too; it syncs like everything else).",
        discussion: "Example: opps account new 上海云帆 industry=物流 territory=east")
    @Argument(help: "The account's name (words typed without quotes are joined with spaces), then more fields as FIELD=VALUE (industry, website, territory).")
    var name: [String]
    @Flag(help: "Make it even when an account here has a name that looks the same (\"Omega Ltd.\" for \"Omega\").") var allowDuplicate = false
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the new record as JSON.") var json = false

    func validate() throws {
        if nameThenFields(name).name.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError(home.say("the name comes first: opps account new NAME industry=…", "先写客户名称：opps account new 名称 行业=…"))
        }
    }

    func run() throws {
        let r = try home.open()
        let (name, fields) = nameThenFields(name, of: r.workspace.entity("account"))
        let existing = try directory(r, "account", search: nil)
        if existing.contains(where: { $0["name"].canonicalText.lowercased() == name.lowercased() }) {
            throw ReplicaError.invalid(
                "an account named \"\(name)\" is already here: opps account show \"\(name)\"", chinese: "本机已有名为「\(name)」的客户：opps account show \"\(name)\"")
        }
        if !allowDuplicate { try r.refuseLikelyDuplicate(entity: "account", [("name", .text(name))], among: existing) }
        var rng = SystemRandomNumberGenerator()
        let made = try r.create(entity: "account", stage: nil, fields: [("name", .text(name))] + assignments(r, "account", fields), using: &rng)
        try printRecord(r, made.record, json: json, short: !json, words: home.words(r))
    }
}

extension AccountNewCommand: HintsAfterError {
    func hint(for error: ReplicaError, words: Vocabulary) -> String? { newRecordHint(for: error, words: words) }
}
