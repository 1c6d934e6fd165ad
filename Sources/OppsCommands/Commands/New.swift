import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new", abstract: "Create an opportunity you own (works offline).",
        discussion:
            "Other fields may follow the name as FIELD=VALUE, as opps set takes them; the new deal and all of them are one edit, so a refusal makes nothing.\n\nWhen the account already has an open deal here with a name that looks the same, none is made and opps names that one (--allow-duplicate makes a second anyway). One made on another laptop meanwhile is said at sync: opps duplicates lists such pairs, a manager merges them (opps merge).\n\nExample: opps new \"ACME rollout\" --account ACME --amount 120k --close 2027-03-31 probability=30"
    )

    @Argument(help: "The opportunity's name (words typed without quotes are joined with spaces), then any FIELD=VALUE pairs.")
    var name: [String]

    @Option(help: "The account: its short id or exact name, or a name for a new account.")
    var account: String

    // `--amount -5` reaches here as `--amount=-5` (CommandGuess.negativeAmountsJoined).
    @Option(
        help: "The amount, an exact decimal such as 12000.00 (or 12,000.00, 12k, 1.2M, 12万); typed with its currency (5,000 USD, US$5k, 35万元), it sets the currency too.")
    var amount: String?

    @Option(help: "The currency code (CNY, USD, EUR, JPY, HKD, GBP).")
    var currency: String?

    @Option(help: ArgumentHelp("The expected close date, YYYY-MM-DD (or 3-31, tomorrow).", valueName: "date"))
    var close: String?

    @Flag(help: "Make it even when its account has an open deal here with a name that looks the same.")
    var allowDuplicate = false

    @OptionGroup var home: HomeOption

    @Flag(help: "Print the new record, as show --json does.")
    var json = false

    func run() throws {
        let r = try home.open()
        var rng = SystemRandomNumberGenerator()
        let (title, pairs) = nameThenFields(name, of: r.workspace.entity("opportunity"))
        guard !title.isEmpty else {
            throw ReplicaError.invalid("the deal's name comes first, then FIELD=VALUE pairs", chinese: "先写商机名称，再写 字段=值")
        }
        let joined = SetCommand.joined(pairs)
        // The name is the words, the account --account: a pair naming either is a second one
        // (said before any value is read: 客户=北辰 would first be an account not found).
        let opportunity = r.workspace.entity("opportunity")
        for pair in joined {
            guard let typed = AssignmentWords.split(pair)?.field, let field = opportunity?.field(input: typed)?.name, field == "name" || field == "account" else {
                continue
            }
            throw ReplicaError.invalid(
                field == "name" ? "the name is the words before the pairs" : "the account is given with --account",
                chinese: field == "name" ? "商机名称就是 字段=值 前面的词" : "客户用 --account 给出")
        }
        let fields = try assignments(r, "opportunity", joined)
        let made = try r.newOpportunity(
            name: title, account: account, amount: amount, currency: currency, close: close, fields: fields, allowDuplicate: allowDuplicate, using: &rng)
        try printRecord(r, made.record, json: json, short: true, words: home.words(r))
        guard !json else { return }
        // The pairs given, with the values they were read as (下月 15 日, 30万), as opps set says them.
        let words = home.words(r)
        let given = fields.map(\.0).filter { made.applied.contains($0) }
        if !given.isEmpty, let deal = try r.record(made.record) {
            Console.out(words.say.filled(given.map { (words.field("opportunity", $0), changedValue(r, words, deal, $0)) }))
        }
        // `负责人=lin` from a rep is a transfer request, not a change: said as opps set says it.
        try reportProposals(made, r, words: words)
        if let account = made.madeAccount { try sayMade(r, words, "account", account) }
        if let deal = try r.record(made.record), let line = currencyHint(deal, code: try r.shortIDs()(made.record), words: words) { Console.out(commandHanging(line)) }
        // What the deal's stage asks before the next one, as the line to type.
        if let deal = try r.record(made.record), let line = nextGate(deal, code: try r.shortIDs()(made.record), words: words) { Console.out(commandHanging(line)) }
    }
}

/// A new record's words: the name (the words before the first FIELD=VALUE, joined with spaces:
/// `opps account new 杭州 云帆 行业=物流` names 杭州 云帆), then its FIELD=VALUE assignments
/// (`AssignmentWords.startsPairs`: fields of `entity`, when known).
func nameThenFields(_ words: [String], of entity: Entity? = nil) -> (name: String, fields: [String]) {
    let name = words.prefix { !AssignmentWords.startsPairs($0, of: entity) }
    return (name.joined(separator: " "), Array(words.dropFirst(name.count)))
}

/// After a name that only part of some accounts' or contacts' names matches, or that one here
/// likely already is: how to make a new one on purpose (`Replica.findOrCreate` made none). The
/// commands that take such a name say it. For a deal its account already has open
/// (`Replica.refuseLikelyDuplicateDeal`): the line that makes a second one on purpose with
/// `command`, the one that was refused, and its account's `option`.
func newRecordHint(for error: ReplicaError, words: Vocabulary, deal command: String = "opps new", account option: String = "--account") -> String? {
    if case let .lookup(.likelyDuplicate, typed, candidates, _) = error, let deal = candidates.first, deal.entity == "opportunity" {
        let new = "\(command) \"\(typed)\" \(option) \"\(deal.account ?? "ACCOUNT")\" --allow-duplicate"
        return words.say("or make a second one on purpose: \(new)", "或者确实要再建一个：\(new)")
    }
    guard case let .lookup(kind, typed, candidates, _) = error, kind == .partOfName || kind == .likelyDuplicate, let entity = candidates.first?.entity,
        entity == "account" || entity == "contact", candidates.allSatisfy({ $0.entity == entity })
    else { return nil }
    let new = "opps \(entity) new \"\(typed)\"" + (entity == "contact" ? " --account ACCOUNT" : "") + (kind == .likelyDuplicate ? " --allow-duplicate" : "")
    return words.say("or make a new \(entity) on purpose: \(new)", "或者确实要新建\(words.entity(entity))：\(new)")
}

extension NewCommand: HintsAfterError {
    func hint(for error: ReplicaError, words: Vocabulary) -> String? { newRecordHint(for: error, words: words) }
}
