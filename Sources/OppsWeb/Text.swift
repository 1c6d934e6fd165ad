import Foundation
import OppsCore
import OppsReplica

/// The app's own words (the workspace gives the business's: stages, fields, values) in the
/// reader's language: English, and Chinese for a browser that prefers any `zh`.
struct WebText: Sendable {
    let chinese: Bool
    /// The workspace locale that goes with it (labels of stages and fields).
    var locale: String { chinese ? "zh-CN" : "en" }

    init(acceptLanguage: String?, override: String?) {
        if let override, override == "zh-CN" || override == "en" {
            chinese = override == "zh-CN"
            return
        }
        // The first language the browser names decides (quality values are in order in practice).
        let first = acceptLanguage?.split(separator: ",").first.map { $0.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        chinese = first.hasPrefix("zh")
    }

    func callAsFunction(_ en: String, _ zh: String) -> String { chinese ? zh : en }

    var board: String { self("Board", "商机看板") }
    var today: String { self("Today", "今日") }
    var approvals: String { self("Approvals", "审批") }
    var reports: String { self("Reports", "报表") }
    var sync: String { self("Sync now", "立即同步") }
    var online: String { self("online", "在线") }
    var offline: String { self("offline", "离线") }
    var never: String { self("never", "从未") }
    var move: String { self("Move", "移动") }
    /// A value as the page shows it: a yes/no in the reader's words, an enum member by its
    /// label, anything else canonical.
    func value(_ words: Vocabulary, _ entity: String, _ field: String, _ v: Value) -> String {
        if v.isNull { return self("(empty)", "（空）") }
        if case let .boolean(b) = v { return b ? self("yes", "是") : self("no", "否") }
        // An amount as opps prints it (120,000.00), a percentage as 15% (Vocabulary.value), so
        // what is read is what is typed back.
        return words.value(entity, field, v)
    }
    var save: String { self("Save", "保存") }
    var propose: String { self("Propose", "提议") }

    /// A day as the reader writes it: `12月5日` / `Dec 5`, with the year when it is not this year's.
    func day(_ d: CivilDate, today: CivilDate) -> String {
        let parts = d.description.split(separator: "-")
        guard parts.count == 3, let month = Int(parts[1]), let day = Int(parts[2]), (1...12).contains(month) else { return d.description }
        let sameYear = today.description.prefix(4) == parts[0]
        if chinese { return (sameYear ? "" : "\(parts[0])年") + "\(month)月\(day)日" }
        let names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(names[month - 1]) \(day)" + (sameYear ? "" : ", \(parts[0])")
    }

    /// The same as HTML that a narrow column never breaks (`12月` on one line, `9日` on the
    /// next, read as two things).
    func dayHTML(_ d: CivilDate, today: CivilDate) -> String { "<span class=\"day\">\(esc(day(d, today: today)))</span>" }
}

extension WebText {
    /// What became of a write and why, in this reader's language (`Vocabulary.reason`, as the
    /// command line says them): `lost (authority)`, `未被采用（同时修改：…）`.
    func fate(_ words: Vocabulary, outcome: String, rule: String, entity: String, field: String) -> String {
        fate(outcome: outcome, why: words.reason(rule: rule, entity: entity, field: field, chinese: chinese))
    }
    /// The same with its reason already said (`Replica.reason(of:)`: who rejected a request, and why).
    func fate(outcome: String, why: String) -> String {
        Vocabulary.outcome(outcome, chinese: chinese) + (chinese ? "（\(why)）" : " (\(why))")
    }
    /// The rules' detail of a proposal or a refusal, in this reader's language.
    func detail(_ words: Vocabulary, _ rule: RuleID, _ detail: String, entity: String, field: String) -> String {
        words.detail(rule, detail, entity: entity, field: field, chinese: chinese)
    }
}
