import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct ContactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contact", abstract: "Contacts (people at accounts): list, show with their deals, add.",
        discussion: "Change a contact's fields with opps set ID FIELD=VALUE.\n\nExample: opps contact new \"Li Wei\" --account 上海云帆 title=CIO",
        subcommands: [ContactListCommand.self, ContactShowCommand.self, ContactNewCommand.self, DuplicatesCommand<ContactKind>.self, MergeCommand<ContactKind>.self],
        defaultSubcommand: ContactListCommand.self)
}

struct ContactListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the contacts on this laptop, with their accounts.",
        discussion: "Example: opps contact list li (or opps contact li)")
    @Argument(help: "Text to search for, as --search takes it.") var text: [String] = []
    @Option(help: "Only contacts whose name contains this text (any case).") var search: String?
    @OptionGroup var home: HomeOption
    @Flag(help: "Print a JSON array of records.") var json = false

    func validate() throws { _ = try searchedText(text, search, home) }

    func run() throws {
        let r = try home.open()
        let search = try searchedText(text, self.search, home)
        let contacts = try directory(r, "contact", search: search)
        if json { Console.out(JSON.array(contacts.map { recordJSON(r, $0) }).compactText); return }
        let words = home.words(r)
        if contacts.isEmpty {
            Console.out(search.map(words.say.noContactMatches) ?? words.say.noContactsYet)
            return
        }
        let short = try r.shortIDs()
        let h = { (field: String) in words.header("contact", field) }
        // id(8) name(14) account(20) title(12) phone(16): 78 columns with their gaps.
        Console.out("\("ID".padding(ShortID.length))  \(fit(h("name"), 14))  \(fit(h("account"), 20))  \(fit(h("title"), 12))  \(h("phone"))")
        for c in contacts {
            let account: RecordID? = if case let .reference(a) = c["account"] { a } else { nil }
            Console.out(
                "\(short(c.id).padding(ShortID.length))  \(fit(c["name"].canonicalText, 14))  \(fit(try name(of: account, r, short), 20))  \(fit(c["title"].isNull ? "" : c["title"].canonicalText, 12))  \(c["phone"].isNull ? "" : c["phone"].canonicalText)"
            )
        }
    }
}

struct ContactShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a contact with the deals they are the contact of.",
        discussion: "Example: opps contact show \"Li Wei\"")
    @Argument(help: "The contact: their short id, their name, or a part of it only one contact's name holds.") var id: String
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the contact as show --json does, with their \"deals\" the same way.") var json = false

    func run() throws {
        let r = try home.open()
        let contactID = try r.resolveID(id, among: ["contact"], reading: true)
        guard let contact = try r.record(contactID), contact.entity == "contact" else { throw ReplicaError.invalid("\(id) is not a contact", chinese: "\(id) 不是联系人") }
        let its = try deals(r, referencing: contactID, in: "contact")
        if json {
            Console.out(recordJSON(r, contact, related: [("deals", its)]).compactText)
            return
        }
        let words = home.words(r)
        try printRecord(r, contactID, json: false, words: words)
        let short = try r.shortIDs()
        Console.out("  " + words.say.deals(its.count))
        for d in its { Console.out("    \(short(d.id))  \(fit(words.value("opportunity", "stage", d["stage"]), 11))  \(d["name"].canonicalText)") }
    }
}

struct ContactNewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new", abstract: "Add a contact at an account (offline too).",
        discussion: "Example: opps contact new 李伟 --account 上海云帆 title=CIO phone=13800000000")
    @Argument(help: "The contact's name (words typed without quotes are joined with spaces), then more fields as FIELD=VALUE (email, phone, title).")
    var name: [String]
    @Option(help: "The account: its short id or exact name (made when there is none of that name).") var account: String
    @Flag(help: "Make it even when a contact here looks like the same person (same name at the account, same email or phone).") var allowDuplicate = false
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the new record as JSON.") var json = false

    func validate() throws {
        if nameThenFields(name).name.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError(home.say("the name comes first: opps contact new NAME --account ACCOUNT title=…", "先写联系人姓名：opps contact new 姓名 --account 客户 职务=…"))
        }
    }

    func run() throws {
        let r = try home.open()
        let (name, fields) = nameThenFields(name, of: r.workspace.entity("contact"))
        var rng = SystemRandomNumberGenerator()
        var madeAccount: RecordID?
        let made: RecordID = try r.store.transaction {
            let found = try r.findOrMake(entity: "account", text: account, using: &rng)
            if found.made { madeAccount = found.id }
            let values = [("name", Value.text(name)), ("account", .reference(found.id))] + (try assignments(r, "contact", fields))
            if !allowDuplicate { try r.refuseLikelyDuplicate(entity: "contact", values, among: try r.store.list(entity: "contact", workspace: r.workspace)) }
            return try r.create(entity: "contact", stage: nil, fields: values, using: &rng).record
        }
        let words = home.words(r)
        try printRecord(r, made, json: json, short: !json, words: words)
        if !json, let madeAccount { try sayMade(r, words, "account", madeAccount) }
    }
}

extension ContactNewCommand: HintsAfterError {
    func hint(for error: ReplicaError, words: Vocabulary) -> String? { newRecordHint(for: error, words: words) }
}
