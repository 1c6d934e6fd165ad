import OppsCore

extension Replica {
    /// A deal's timeline event as a sentence in the reader's language: the one wording
    /// `opps show` and the web's deal page both print (`任务 ygq972jq「开通试用账号」，2026-12-03
    /// 到期，执行人 wei，未完成`; `conflict #3 next step: "call the CFO" lost (…); held "…"`).
    ///
    /// - `id`: the event's record as the reader types it (a task's, a request's short id), or
    ///   nil where it is not typed (a page links instead).
    /// - `value`: a field's value as the surface shows it (a reference by its record's name,
    ///   an amount grouped).
    public func sentence(
        _ event: TimelineEvent, deal: Record, words: Vocabulary, chinese: Bool, id: String?, value: (String, Value) -> String
    ) -> String {
        let e = deal.entity
        let shownID = id.map { $0 + (chinese ? "" : " ") } ?? ""
        func say(_ en: String, _ zh: String) -> String { chinese ? zh : en }
        func quoted(_ v: String) -> String { chinese ? "「\(v)」" : "\"\(v)\"" }
        switch event.kind {
        case let .stage(from, to):
            guard let from else { return say("created in \(words.stage(to))", "创建于 \(words.stage(to))") }
            return say("stage \(words.stage(from)) → \(words.stage(to))", "阶段 \(words.stage(from)) → \(words.stage(to))")
        case let .activity(kind, note, place, flagged):
            let kind = words.member("activity", "kind", kind)
            return chinese
                ? kind + (place.map { "（\($0)）" } ?? "") + (note.map { "：\($0)" } ?? "") + (flagged ? "（同步时本机时钟有偏差）" : "")
                : kind + (place.map { " at \($0)" } ?? "") + (note.map { ": \($0)" } ?? "") + (flagged ? " (device clock was off at sync)" : "")
        case let .task(text, due, done, assignee):
            return chinese
                ? "任务" + (id.map { " " + $0 } ?? "") + "「\(text)」" + (due.map { "，\($0) 到期" } ?? "") + (assignee.map { "，执行人 \(authorName($0, chinese: true))" } ?? "")
                    + (done ? "，已完成" : "，未完成")
                : "task \(shownID)\"\(text)\"" + (due.map { " due \($0)" } ?? "") + (assignee.map { " for \(authorName($0, chinese: false))" } ?? "")
                    + (done ? ", done" : ", open")
        case let .approval(kind, field, requestedValue, state, decidedBy, note):
            // What it asks for as the approvals say it (fields by label, values as they read).
            let request = field == nil ? nil : (try? record(event.record)) ?? nil
            let what =
                request.map { requested($0, words: words, chinese: chinese) }
                ?? field.map { words.field(e, $0) + (requestedValue.map { " " + $0 } ?? "") } ?? words.member("approval", "kind", kind)
            // The hub's own note (a request it could not take or apply) in the reader's words.
            let said = chinese ? note.map { words.chineseHubNote($0) ?? $0 } : note
            let state = words.member("approval", "state", state)
            let tail: String = said.map { " — " + $0 } ?? ""
            if chinese {
                let by: String = decidedBy.map { "，审批人 " + authorName($0, chinese: true) } ?? ""
                return "审批" + (id.map { " " + $0 } ?? "") + "（" + what + "）：" + state + by + tail
            }
            let by: String = decidedBy.map { " by " + authorName($0, chinese: false) } ?? ""
            return "approval " + shownID + "for " + what + ": " + state + by + tail
        case let .team(user, role, state):
            let (role, state) = (words.member("membership", "role", role), words.member("membership", "state", state))
            let who = authorName(user, chinese: chinese)
            return say("team: \(who) (\(role)) \(state)", "团队：\(who)（\(role)）\(state)")
        case let .conflict(number, field, lost, outcome, rule, winner):
            func shown(_ v: Value) -> String { v.isNull ? say("(empty)", "（空）") : quoted(value(field, v)) }
            let why = words.reason(rule: "\(rule)", entity: e, field: field, chinese: chinese)
            let fate = Vocabulary.outcome("\(outcome)", chinese: chinese)
            return chinese
                ? "冲突 #\(number) \(words.field(e, field))：\(shown(lost))\(fate)（\(why)）" + (winner.map { "；当时的值\(shown($0))" } ?? "")
                : "conflict #\(number) \(words.field(e, field)): \(shown(lost)) \(fate) (\(why))" + (winner.map { "; held \(shown($0))" } ?? "")
        case .deleted:
            return say("deleted the \(words.entity(e))", "删除了该\(words.entity(e))")
        }
    }
}
