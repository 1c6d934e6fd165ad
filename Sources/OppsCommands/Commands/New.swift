import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new", abstract: "Create an opportunity you own (works offline).",
        discussion: "Example: opps new \"华东 试点\" --account 上海云帆 --amount 120000.00 --currency CNY --close 2027-03-31")

    @Argument(help: "The opportunity's name (words typed without quotes are joined with spaces).")
    var name: [String]

    @Option(help: "The account: its short id or exact name, or a name for a new account.")
    var account: String

    @Option(help: "The amount, an exact decimal such as 12000.00.")
    var amount: String?

    @Option(help: "The currency code (CNY, USD, EUR, JPY, HKD, GBP).")
    var currency: String?

    @Option(help: "The expected close date, YYYY-MM-DD.")
    var close: String?

    @OptionGroup var home: HomeOption

    @Flag(help: "Print the new record, as show --json does.")
    var json = false

    func run() throws {
        let r = try home.open()
        var rng = SystemRandomNumberGenerator()
        let entity = r.workspace.entity("opportunity")!
        let id: RecordID = try r.store.transaction {
            let accountID = try findOrCreate(r, entity: "account", text: account, rng: &rng)
            var fields: [(String, Value)] = [("name", .text(name.joined(separator: " "))), ("account", .reference(accountID))]
            if let amount { fields.append(("amount", try r.parse(amount, for: entity.field("amount")!, of: entity.name))) }
            if let currency { fields.append(("currency", try r.parse(currency, for: entity.field("currency")!, of: entity.name))) }
            if let close { fields.append(("close_date", try r.parse(close, for: entity.field("close_date")!, of: entity.name))) }
            let stage = r.workspace.entity("opportunity")?.create[r.role]?.last
            guard let stage else {
                throw ReplicaError.refused(entity: "opportunity", field: "opportunity", rule: .createNotPermitted, detail: "\(r.role) may not create opportunities")
            }
            let result = try r.create(entity: "opportunity", stage: r.role == "sales" ? "discovery" : stage, fields: fields, using: &rng)
            return result.record
        }
        try printRecord(r, id, json: json, short: true, words: home.words(r))
    }
}

/// A new record's words: the name (the words before the first FIELD=VALUE, joined with spaces:
/// `opps account new 杭州 云帆 行业=物流` names 杭州 云帆), then its FIELD=VALUE assignments.
func nameThenFields(_ words: [String]) -> (name: String, fields: [String]) {
    let name = words.prefix { !$0.contains("=") }
    return (name.joined(separator: " "), Array(words.dropFirst(name.count)))
}

/// An account or contact given as an id/prefix, or a name for a new one. A new name that is
/// likely one already here ("Omega Ltd." for "Omega": Duplicates) is refused, naming it: a
/// second "Omega" made offline is what the manager would have to merge later.
func findOrCreate(_ r: Replica, entity: String, text: String, extra: [(String, Value)] = [], rng: inout some RandomNumberGenerator) throws -> RecordID {
    if let id = try? r.resolveID(text, among: [entity]), try r.record(id)?.entity == entity { return id }
    let existing = try r.store.list(entity: entity, workspace: r.workspace)
    for e in existing where e["name"] == .text(text) { return e.id }
    try refuseLikelyDuplicate(r, entity: entity, [("name", .text(text))] + extra, among: existing)
    // Part of names already here ("云帆" for 苏州云帆物流有限公司): most likely one of them was
    // meant, so none is guessed and no new one is made; the lookup names them, the command's
    // hint (`newRecordHint`) how to make a new one on purpose.
    let folded = text.lowercased()
    let containing = existing.filter { !folded.isEmpty && $0["name"].canonicalText.lowercased().contains(folded) }
    if !containing.isEmpty { throw try r.lookup(.partOfName, typed: text, containing.map(\.id)) }
    return try r.create(entity: entity, stage: nil, fields: [("name", .text(text))] + extra, using: &rng).record
}

/// One clear line when a record of `entity` with `fields` would likely duplicate one here
/// (Duplicates.likely): which one, and how to make a new one anyway.
func refuseLikelyDuplicate(_ r: Replica, entity: String, _ fields: [(String, Value)], among existing: [Record]) throws {
    guard let match = Duplicates.likely(Dictionary(fields, uniquingKeysWith: { a, _ in a }), among: existing).first else { return }
    let short = try r.shortIDs()
    let name = fields.first { $0.0 == "name" }?.1.canonicalText ?? ""
    throw ReplicaError.invalid(
        "\"\(name)\" looks like the \(entity) \"\(match["name"].canonicalText)\" (\(short(match.id))) already here: "
            + "give \(short(match.id)) to use it, or make a new one with opps \(entity) new \"\(name)\"\(entity == "contact" ? " --account ACCOUNT" : "") --allow-duplicate"
    )
}

/// After a name that only part of some accounts' or contacts' names matches: how to make a new
/// one on purpose (`findOrCreate` made none). The commands that take such a name say it.
func newRecordHint(for error: ReplicaError, words: Vocabulary) -> String? {
    guard case let .lookup(.partOfName, typed, candidates, _) = error, let entity = candidates.first?.entity,
        entity == "account" || entity == "contact", candidates.allSatisfy({ $0.entity == entity })
    else { return nil }
    let new = "opps \(entity) new \"\(typed)\"" + (entity == "contact" ? " --account ACCOUNT" : "")
    return words.say("or make a new \(entity) on purpose: \(new)", "或者确实要新建\(words.entity(entity))：\(new)")
}

extension NewCommand: HintsAfterError {
    func hint(for error: ReplicaError, words: Vocabulary) -> String? { newRecordHint(for: error, words: words) }
}
