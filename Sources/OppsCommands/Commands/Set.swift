import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct SetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change fields of a record in one atomic local edit.",
        discussion:
            "Values: decimals 12000.00 (or 12,000.00 as opps prints them, 12k, 1.2M, or 12万; a deal's amount typed with its currency, 5,000 USD, US$5k or 35万元, sets the deal's currency too), dates YYYY-MM-DD (or 12-05, 2026/12/5, tomorrow, friday, next monday, in 3 days, end of month, end of quarter, end of year: the month and day alone are the nearest such date), users by name (owner=bob), records by short id or name, enum members by name or label (or its first letters, when only one member begins so), yes/no as true/false (or 是/否), a percentage with its sign or without (probability=40%), empty to clear.\n\nExample: opps set 7dka36sd next_step=\"demo Friday\" next_step_due=2026-12-04"
    )

    @Argument(help: "The record: its short id as opps list prints it (4+ characters do), a full id, or an exact name.")
    var id: String

    @Argument(help: ArgumentHelp("FIELD=VALUE pairs; words after a pair, typed without quotes, continue its value.", valueName: "field=value"))
    var assignments: [String]

    @OptionGroup var home: HomeOption

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    func validate() throws {
        // The reader's words only for a refusal (finding them opens the replica).
        func say(_ en: String, _ zh: String) -> String { home.say(en, zh) }
        guard !assignments.isEmpty else { throw ValidationError(say("give at least one FIELD=VALUE", "请至少给出一个 字段=值")) }
        // Words after a FIELD=VALUE continue its value (`下一步=约 王总 见面`, typed without quotes);
        // only words before the first pair are refused.
        for (i, a) in assignments.enumerated().prefix(while: { !AssignmentWords.isPair($0.element) }) {
            // `opps set ID amount 120000`: the likely meaning, written the way set takes it.
            if i + 1 < assignments.count, !AssignmentWords.isPair(assignments[i + 1]) {
                let written = "\(a)=\(Self.quoted(assignments[i + 1]))"
                throw ValidationError(say("\"\(a)\" is not FIELD=VALUE: write \(written)", "「\(a)」不是 字段=值 的形式：请写成 \(written)"))
            }
            // `金额：50万`, as a Chinese reader writes a field and its value.
            if let colon = a.firstIndex(where: { $0 == "：" || $0 == ":" }), colon != a.startIndex, a.index(after: colon) != a.endIndex {
                let written = "\(a[..<colon])=\(Self.quoted(String(a[a.index(after: colon)...])))"
                throw ValidationError(say("\"\(a)\" is not FIELD=VALUE: write \(written)", "「\(a)」不是 字段=值 的形式：请写成 \(written)"))
            }
            throw ValidationError(say("\"\(a)\" is not FIELD=VALUE (e.g. next_step=\"demo Friday\")", "「\(a)」不是 字段=值 的形式（例如 下一步=\"周五演示\"）"))
        }
    }

    /// The FIELD=VALUE pairs as meant: a word with no `=` continues the value before it, joined
    /// with a space, as the shell split a value typed without quotes.
    static func joined(_ words: [String]) -> [String] {
        var pairs = [String]()
        for w in words {
            if AssignmentWords.isPair(w) || pairs.isEmpty { pairs.append(w) } else { pairs[pairs.count - 1] += " " + w }
        }
        return pairs
    }

    /// A value as the shell needs it typed: quoted when it holds a space.
    static func quoted(_ v: String) -> String { v.contains(" ") ? "\"\(v)\"" : v }

    func run() throws {
        let r = try home.open()
        let recordID = try r.resolveID(id)
        guard let record = try r.record(recordID), let entity = r.workspace.entity(record.entity) else { throw try r.notHere(recordID.description) }
        try report(try r.edit(recordID, try OppsCommands.assignments(r, entity.name, Self.joined(assignments))), json: json, r, words: home.words(r))
    }
}

/// `联系人=王总` when this laptop has no contact of that name: the way on is to make them, at the
/// deal's account, then to set the field again.
extension SetCommand: HintsAfterError {
    func hint(for error: ReplicaError, words: Vocabulary) -> String? {
        // `opps set 华为 金额=120万`: 华为 is the account, the amount is its deal's. The deal meant,
        // by the id to type (several: their ids and names).
        if case let .unknownField(entity, typed, _) = error, entity != "opportunity",
            words.workspace.entity("opportunity")?.field(input: typed) != nil,
            let r = try? home.open(), let recordID = try? r.resolveID(id), let record = try? r.record(recordID),
            let deals = try? deals(r, referencing: record.id, in: entity),
            !deals.isEmpty, let short = try? r.shortIDs()
        {
            let noun = words.entity(entity)
            let what = words.say(
                "\"\(record["name"].canonicalText)\" is \(noun.first.map { "aeiou".contains($0) } == true ? "an" : "a") \(noun)",
                "「\(record["name"].canonicalText)」是\(words.entity(entity))")
            if deals.count == 1, let deal = deals.first {
                let line = CommandSuggestion.line("opps", ["set", short(deal.id)] + Self.joined(assignments))
                return words.say("\(what); for its deal \"\(deal["name"].canonicalText)\": \(line)", "\(what)；要改它的商机「\(deal["name"].canonicalText)」：\(line)")
            }
            let listed = deals.prefix(5).map { "\(short($0.id)) \($0["name"].canonicalText)" }.joined(separator: words.say(", ", "、"))
            return words.say(
                "\(what); for one of its \(deals.count) deals, give the deal's id: \(listed)", "\(what)；要改它的 \(deals.count) 个商机之一，请写商机的 id：\(listed)")
        }
        // A field locked while a request waits: which request, and where its decision shows.
        if case .refused(_, _, .approvalPending, _, _) = error, let r = try? home.open(), let deal = try? r.resolveID(id),
            let name = r.workspace.approvalRequests, let requests = try? r.store.list(entity: name, workspace: r.workspace),
            let waiting = requests.last(where: { $0["opportunity"] == .reference(deal) && ($0["state"].isNull || $0["state"] == .member("pending")) }),
            let short = try? r.shortIDs()
        {
            let asked = r.requested(waiting, words: words, chinese: words.say.chinese)
            // Taken back on this laptop: the hub unlocks the deal when it hears.
            if Replica.withdrawing(waiting) {
                return words.say(
                    "you withdrew request \(short(waiting.id)) (\(asked)): the deal is unlocked once the hub hears it — opps sync, then change it",
                    "你已撤回审批 \(short(waiting.id))（\(asked)）：服务器收到后即解锁 —— 先 opps sync，再修改")
            }
            // One's own request may be taken back instead of waited for.
            if r.mayWithdraw(waiting) {
                return words.say(
                    "it waits for your request \(short(waiting.id)) (\(asked)): change it once that is decided, or take the request back: opps withdraw \(short(waiting.id))",
                    "它在等你的审批 \(short(waiting.id))（\(asked)）：有结果后再改，或撤回申请：opps withdraw \(short(waiting.id))")
            }
            // Whose request, and who decides it (an approver is not locked out): a rep the deal was
            // given to has no queue where it shows.
            let code = short(waiting.id)
            let who = waiting.creator == r.user ? words.say("your", "你的") : words.say("\(waiting.creator)'s", " \(waiting.creator) 的")
            let deciders = (r.workspace.approvals?.approvers ?? []).sorted().map { words.role($0) }.joined(separator: words.say(" or ", "或"))
            return words.say(
                "it waits for \(who) request \(code) (\(asked)), which \(deciders.isEmpty ? "an approver" : "a " + deciders) decides: change it once that is decided",
                "它在等\(who)审批 \(code)（\(asked)），由\(deciders.isEmpty ? "审批人" : deciders)审批：有结果后再改")
        }
        // `阶段=方案` past a gate not met: what to fill in, as opps stage says it.
        if case .refused(_, _, .stageGate, _, _) = error {
            let staged = words.workspace.entities.compactMap { e in e.stageField.map { (e, $0) } }
            for pair in Self.joined(assignments) {
                guard let (name, value) = AssignmentWords.split(pair),
                    staged.contains(where: { $0.0.field(input: name)?.name == $0.1 })
                else { continue }
                return stageGateHint(error, id: typedBack(try? home.open(), id), stage: value, words: words)
            }
        }
        guard case let .lookup(.unknown, typed, _, _) = error, let r = try? home.open(), let recordID = try? r.resolveID(id),
            let record = try? r.record(recordID), let entity = r.workspace.entity(record.entity)
        else { return nil }
        for pair in Self.joined(assignments) {
            guard let (name, value) = AssignmentWords.split(pair), value == typed,
                let field = entity.field(input: name), case let .reference(target) = field.type, target == "account" || target == "contact"
            else { continue }
            var make = ["contact" == target ? "contact" : "account", "new", typed]
            if target == "contact" {
                var account: String?
                if case let .reference(a) = record["account"], let held = try? r.record(a) { account = held["name"].canonicalText }
                make += ["--account", account ?? words.say("ACCOUNT", "客户名称")]
            }
            let line = CommandSuggestion.line("opps", make)
            return words.say("make the \(target) here first: \(line), then run opps set again", "先新建\(words.entity(target))：\(line)，再运行一次 opps set")
        }
        return nil
    }
}
