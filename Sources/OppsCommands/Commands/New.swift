import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new", abstract: "Create an opportunity you own (works offline).",
        discussion: "Example: opps new \"华东 试点\" --account 上海云帆 --amount 12万")

    @Argument(help: "The opportunity's name (words typed without quotes are joined with spaces).")
    var name: [String]

    @Option(help: "The account: its short id or exact name, or a name for a new account.")
    var account: String

    @Option(help: "The amount, an exact decimal such as 12000.00.")
    var amount: String?

    @Option(help: "The currency code (CNY, USD, EUR, JPY, HKD, GBP).")
    var currency: String?

    @Option(help: "The expected close date, YYYY-MM-DD (or 3-31, tomorrow).")
    var close: String?

    @OptionGroup var home: HomeOption

    @Flag(help: "Print the new record, as show --json does.")
    var json = false

    func run() throws {
        let r = try home.open()
        var rng = SystemRandomNumberGenerator()
        let id = try r.newOpportunity(name: name.joined(separator: " "), account: account, amount: amount, currency: currency, close: close, using: &rng)
        try printRecord(r, id, json: json, short: true, words: home.words(r))
    }
}

/// A new record's words: the name (the words before the first FIELD=VALUE, joined with spaces:
/// `opps account new 杭州 云帆 行业=物流` names 杭州 云帆), then its FIELD=VALUE assignments.
func nameThenFields(_ words: [String]) -> (name: String, fields: [String]) {
    let name = words.prefix { !$0.contains("=") }
    return (name.joined(separator: " "), Array(words.dropFirst(name.count)))
}

/// After a name that only part of some accounts' or contacts' names matches, or that one here
/// likely already is: how to make a new one on purpose (`Replica.findOrCreate` made none). The
/// commands that take such a name say it.
func newRecordHint(for error: ReplicaError, words: Vocabulary) -> String? {
    guard case let .lookup(kind, typed, candidates, _) = error, kind == .partOfName || kind == .likelyDuplicate, let entity = candidates.first?.entity,
        entity == "account" || entity == "contact", candidates.allSatisfy({ $0.entity == entity })
    else { return nil }
    let new = "opps \(entity) new \"\(typed)\"" + (entity == "contact" ? " --account ACCOUNT" : "") + (kind == .likelyDuplicate ? " --allow-duplicate" : "")
    return words.say("or make a new \(entity) on purpose: \(new)", "或者确实要新建\(words.entity(entity))：\(new)")
}

extension NewCommand: HintsAfterError {
    func hint(for error: ReplicaError, words: Vocabulary) -> String? { newRecordHint(for: error, words: words) }
}
