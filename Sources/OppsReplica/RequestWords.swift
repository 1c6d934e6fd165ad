import OppsCore

extension Replica {
    /// What an approval request asks for, in a Chinese reader's words — `阶段 → 输单，输单原因 → 价格`
    /// — made from the request's own fields (`field`, `value`, the `with` it carries). Its stored
    /// `requested` text is names and canonical values, the same for every reader: what an
    /// English reader reads, and what a request naming no field shows.
    ///
    /// A team change says whose membership it is (`eve：状态 → 有效`): its fields alone do not.
    public func requested(_ request: Record, words: Vocabulary, chinese: Bool) -> String {
        var target: Record?
        if case let .text(text) = request["target"], let id = RecordID(parsing: text) { target = try? record(id) }
        var who = ""
        if let target, let team = workspace.teamRule, target.entity == team.entity, case let .text(user) = target[team.user] {
            who = user + (chinese ? "：" : ": ")
        }
        guard chinese, case let .text(field) = request["field"], !field.isEmpty else { return who + request["requested"].canonicalText }
        let entity = target?.entity ?? "opportunity"
        var pairs = [(field, request["value"].isNull ? "" : request["value"].canonicalText)]
        if case let .text(with) = request["with"] {
            for line in with.split(separator: "\n") {
                guard let eq = line.firstIndex(of: "=") else { continue }
                pairs.append((String(line[..<eq]), String(line[line.index(after: eq)...])))
            }
        }
        func shown(_ field: String, _ text: String) -> String {
            if text.isEmpty { return "（空）" }
            if field == workspace.entity(entity)?.stageField { return words.stage(text) }
            guard let f = workspace.entity(entity)?.field(field), let value = try? parse(text, for: f, of: entity) else { return text }
            if case let .boolean(b) = value { return b ? "是" : "否" }
            if case let .decimal(d) = value { return groupedAmount("\(d)") }
            return words.value(entity, field, value)
        }
        return who + pairs.map { words.field(entity, $0.0) + " → " + shown($0.0, $0.1) }.joined(separator: "，")
    }
}
