import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// What an edit did, in the reader's words (`words` is required: a caller that forgets it would
/// speak English to a Chinese reader).
func report(_ result: EditResult, json: Bool, _ r: Replica, words: Vocabulary) throws {
    let entity = try r.record(result.record)?.entity ?? "opportunity"
    func label(_ field: String) -> String { words.field(entity, field) }
    let say = words.say
    if json {
        Console.out(try EditJSON(result).jsonLine())
        return
    }
    // Each field with the value it now holds, as opps show reads it: a typed 下周五 or 50万 is
    // said back as the date (and its weekday) or the amount it was read as.
    let after = try r.record(result.record)
    if !result.applied.isEmpty {
        Console.out(say.changed(result.applied.map { field in (label(field), after.map { changedValue(r, words, $0, field) }) }))
    }
    if result.applied.isEmpty, result.proposed.isEmpty, !result.unchanged.isEmpty { Console.out(say.unchanged(result.unchanged.map(label))) }
    try reportProposals(result, r, words: words)
    if result.applied.contains("amount"), let after, let line = currencyHint(after, code: try r.shortIDs()(after.id), words: words) { Console.out(commandHanging(line)) }
    if let sf = r.workspace.entity(entity)?.stageField, result.applied.contains(sf), let known = try r.handedOffAnywhere(result.record) {
        let stage = after.flatMap { if case let .member(s) = $0[sf] { words.stage(s) } else { nil } } ?? ""
        let (sentence, commands) = say.handedOffAnywhere(
            code: try r.shortIDs()(result.record), territory: label("territory"), stageField: label(sf), stage: stage, known: known)
        Console.out(hanging("", sentence))
        for c in commands { Console.out("  " + c) }
    }
}

/// A deal with an amount and no currency: the board, funnel and forecast total it apart, as
/// "(no currency)". The line that sets one, with the workspace's first currency (its label for
/// a Chinese reader, which opps set takes back). `opps new` and `opps set` say it after the amount.
func currencyHint(_ deal: Record, code: String, words: Vocabulary) -> String? {
    guard deal.entity == "opportunity", !deal["amount"].isNull, deal["currency"].isNull,
        case let .enumeration(members)? = words.workspace.entity(deal.entity)?.field("currency")?.type, let first = members.first
    else { return nil }
    let pair = "\(words.field(deal.entity, "currency"))=\(words.member(deal.entity, "currency", first))"
    return words.say(
        "an amount without a currency is totalled apart: opps set \(code) \(pair)", "金额还没有币种，合计时会单列：opps set \(code) \(pair)")
}

/// A field's value after an edit, for the line that says it changed: as `opps show` prints it
/// (`valueText`), a date with its weekday, a long text cut to 40 columns.
func changedValue(_ r: Replica, _ words: Vocabulary, _ record: Record, _ field: String) -> String {
    let v = record[field]
    var text = (try? valueText(r, words, record.entity, field, v)) ?? words.say.value(words, record.entity, field, v)
    if case let .date(day) = v { text += words.say(" (\(words.say.weekday(day)))", "（\(words.say.weekday(day))）") }
    return cut(text.replacingOccurrences(of: "\n", with: " "), 40)
}

/// What of an edit went to an approver instead of being written: each request once (with the
/// fields it carries), each bare proposal. `opps set` and `opps new NAME FIELD=VALUE…` say it.
func reportProposals(_ result: EditResult, _ r: Replica, words: Vocabulary) throws {
    guard !result.proposed.isEmpty else { return }
    let entity = try r.record(result.record)?.entity ?? "opportunity"
    func label(_ field: String) -> String { words.field(entity, field) }
    let say = words.say
    let short = try r.shortIDs()
    var told = Set<RecordID>()
    for (i, p) in result.proposed.enumerated() {
        if i < result.requests.count {
            // One request may carry several fields (a loss and its reason): said once.
            let id = result.requests[i]
            guard told.insert(id).inserted else { continue }
            // The request's own field first (a stage move), then what it carries.
            let stageField = r.workspace.entity("opportunity")?.stageField
            let together = result.proposed.indices.filter { $0 < result.requests.count && result.requests[$0] == id }
                .map { result.proposed[$0] }.sorted { ($0.field == stageField ? 0 : 1) < ($1.field == stageField ? 0 : 1) }
            let main = together.first ?? p
            Console.out(
                say.requestedApproval(
                    short(id), for: together.map { label($0.field) }, detail: say.detail(words, main.rule, main.detail, entity: entity, field: main.field)))
        } else {
            Console.out(say.proposed(label(p.field), detail: say.detail(words, p.rule, p.detail, entity: entity, field: p.field)))
        }
    }
}
