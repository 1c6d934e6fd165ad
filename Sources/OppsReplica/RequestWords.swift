import OppsCore

extension Replica {
    /// What an approval request asks for, in a Chinese reader's words — `阶段 → 输单，输单原因 → 价格`
    /// — made from the request's own fields (`field`, `value`, the `with` it carries). Its stored
    /// `requested` text is names and canonical values, the same for every reader: what an
    /// English reader reads, and what a request naming no field shows.
    public func requested(_ request: Record, words: Vocabulary, chinese: Bool) -> String {
        guard chinese, case let .text(field) = request["field"], !field.isEmpty else { return request["requested"].canonicalText }
        var entity = "opportunity"
        if case let .text(target) = request["target"], let id = RecordID(parsing: target), let r = try? record(id) { entity = r.entity }
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
        return pairs.map { words.field(entity, $0.0) + " → " + shown($0.0, $0.1) }.joined(separator: "，")
    }
}
