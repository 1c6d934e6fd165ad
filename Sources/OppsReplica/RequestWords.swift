import OppsCore
import OppsStore

extension Replica {
    /// What an approval request asks for, in the reader's words — `阶段 → 输单，输单原因 → 价格`,
    /// `discount → 18%` — made from the request's own fields (`field`, `value`, the `with` it
    /// carries), each value as the field shows it. Its stored `requested` text (names and
    /// canonical values, the same for every reader: `discount → 18`) is what a request naming
    /// no field shows.
    ///
    /// A team change says whose membership it is, and as a sentence when it adds or removes
    /// them (`eve joins the team (expert)`, `eve 离开团队`; else `eve：状态 → …`): its fields
    /// alone do not.
    public func requested(_ request: Record, words: Vocabulary, chinese: Bool) -> String {
        var target: Record?
        if case let .text(text) = request["target"], let id = RecordID(parsing: text) { target = try? record(id) }
        var who = ""
        if let target, let team = workspace.teamRule, target.entity == team.entity, case let .text(user) = target[team.user] {
            if request["field"] == .text(team.state), case let .text(value) = request["value"] {
                let role = target["role"].isNull ? "" : words.value(team.entity, "role", target["role"])
                // A team request asks to make a membership active or to end it (any other state).
                if value == team.active {
                    return chinese ? "\(user) 加入团队" + (role.isEmpty ? "" : "（\(role)）") : "\(user) joins the team" + (role.isEmpty ? "" : " (\(role))")
                }
                return chinese ? "\(user) 离开团队" : "\(user) leaves the team"
            }
            who = user + (chinese ? "：" : ": ")
        }
        guard case let .text(field) = request["field"], !field.isEmpty else { return who + request["requested"].canonicalText }
        let entity = target?.entity ?? "opportunity"
        let pairs = [(field, request["value"].isNull ? "" : request["value"].canonicalText)] + Self.carried(request)
        func shown(_ field: String, _ text: String) -> String {
            if text.isEmpty { return chinese ? "（空）" : "(empty)" }
            if field == workspace.entity(entity)?.stageField { return words.stage(text) }
            guard let f = workspace.entity(entity)?.field(field), let value = try? parse(text, for: f, of: entity) else { return text }
            if case let .boolean(b) = value { return chinese ? (b ? "是" : "否") : (b ? "true" : "false") }
            return words.value(entity, field, value)
        }
        return who + pairs.map { words.field(entity, $0.0) + " → " + shown($0.0, $0.1) }.joined(separator: chinese ? "，" : ", ")
    }
}

extension Replica {
    /// An approval request's own fields as a reader reads them, not as they are stored (a record
    /// id, a field's name, a value's canonical text): what it asks for as `requested` says it,
    /// its target as a reference, the field by its label, the value as the field shows it
    /// (`15%`), each value as `value` reads it (`opps show`: a reference by name and short id; a
    /// sheet: by name). Nil for any other record or field, or when the target is not here.
    public func requestText(
        _ request: Record, field: String, words: Vocabulary, chinese: Bool, value: (String, String, Value) throws -> String
    ) throws -> String? {
        guard request.entity == workspace.approvalRequests else { return nil }
        if field == "requested", !request["field"].isNull { return requested(request, words: words, chinese: chinese) }
        guard ["target", "field", "value", "with"].contains(field), case let .text(targetText) = request["target"], let id = RecordID(parsing: targetText),
            let target = try record(id)
        else { return nil }
        // A value of the target's field as that field shows it; nil when it does not read as one.
        func shown(_ name: String, _ text: String) throws -> String? {
            guard let f = workspace.entity(target.entity)?.field(name), let v = try? parse(text, for: f, of: target.entity) else { return nil }
            return try value(target.entity, name, v)
        }
        switch field {
        case "target": return try value(request.entity, field, .reference(id))
        case "field": return request["field"].isNull ? nil : words.field(target.entity, request["field"].canonicalText)
        case "with":
            // What it carries alongside (`loss_reason=price`): `输单原因 → 价格`.
            let pairs = try Self.carried(request).map { name, text in "\(words.field(target.entity, name)) → \(try shown(name, text) ?? text)" }
            return pairs.isEmpty ? nil : pairs.joined(separator: chinese ? "，" : ", ")
        default:
            guard case let .text(name) = request["field"], case let .text(text) = request["value"] else { return nil }
            return try shown(name, text)
        }
    }
}

extension Replica {
    /// What a request carries alongside its field (`with`: `loss_reason=price`, a line each), as
    /// (field, canonical text) pairs; a line without `=` is not one.
    public static func carried(_ request: Record) -> [(String, String)] {
        guard case let .text(with) = request["with"] else { return [] }
        return with.split(separator: "\n").compactMap { (line: Substring) -> (String, String)? in
            guard let eq = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }
    }
}

extension Vocabulary {
    /// The note on a request as its reader reads it — an approver's words as written, the hub's
    /// own (`invalid request: …`) in a Chinese reader's words — nil when there is none.
    public func note(of request: Record, chinese: Bool) -> String? {
        guard case let .text(written) = request["note"], !written.isEmpty else { return nil }
        return chinese ? chineseHubNote(written) ?? written : written
    }

    /// The note the hub writes on an approval request it could not take or apply
    /// (`BatchDecider.approvalEffects`: `invalid request: …`, `not applied: …`), in Chinese with
    /// fields and stages by their labels; nil for any other note (an approver's own words are
    /// shown as written). The hub writes the English once, for every reader; this reads it.
    public func chineseHubNote(_ note: String, entity: String = "opportunity") -> String? {
        let head: String
        let rest: Substring
        if note.hasPrefix("invalid request: ") {
            (head, rest) = ("申请无效：", note.dropFirst("invalid request: ".count))
        } else if note.hasPrefix("not applied: ") {
            (head, rest) = ("未执行：", note.dropFirst("not applied: ".count))
        } else {
            return nil
        }
        func f(_ name: some StringProtocol) -> String { "「\(field(entity, String(name)))」" }
        func fields(_ list: some StringProtocol) -> String { list.split(separator: ",").map { f($0.trimmingCharacters(in: .whitespaces)) }.joined(separator: "、") }
        func s(_ name: some StringProtocol) -> String { "「\(stage(String(name)))」" }
        let text = String(rest)
        /// What lies between `a` and `b` when the text is exactly `a…b`.
        func between(_ a: String, _ b: String) -> Substring? {
            guard text.hasPrefix(a), text.hasSuffix(b), text.count > a.count + b.count else { return nil }
            return text.dropFirst(a.count).dropLast(b.count)
        }
        /// The two sides of `separator` in `x`.
        func split(_ x: Substring?, _ separator: String) -> (Substring, Substring)? {
            guard let x, let r = x.range(of: separator) else { return nil }
            return (x[..<r.lowerBound], x[r.upperBound...])
        }
        // Each of the hub's sentences (BatchDecider.requested, stageMoveRefusal), tried in turn.
        let fixed = [
            "no such target record": "目标记录已不存在", "the target does not belong to the opportunity": "目标不属于这个商机",
            "moving back more than one stage is a manager's act": "后退超过一个阶段需要经理操作",
        ]
        if let said = fixed[text] { return head + said }
        if text == BatchDecider.orphanedDetail(entity) { return head + chineseReason(.orphaned, entity: entity, field: "") }
        if let x = between("the target's ", " is not set") { return head + "目标的\(f(x))未填写" }
        if let x = between("", " names no user of this hub") { return head + "\(f(x))填写的用户在服务器上不存在" }
        if let x = between("", " is no longer a user of this hub") { return head + "\(x) 已不是服务器上的用户" }
        if let x = between("", " is disabled on this hub") { return head + "\(x) 的账号已停用" }
        if let (who, what) = split(between("", " of that record"), " may no longer change ") { return head + "\(who) 已无权修改该记录的\(f(what))" }
        if let (stage, list) = split(between("leaving ", ""), " needs: ") { return head + "离开\(s(stage))需要：\(fields(list))" }
        if let (stage, list) = split(between("entering ", ""), " needs: ") { return head + "进入\(s(stage))需要：\(fields(list))" }
        if let x = between("", " is closed: only a manager reopens it") { return head + "\(s(x))已结束：只有经理能重开" }
        if let x = between("rejecting a hand-off needs ", "") { return head + "退回移交需要填写\(f(x))" }
        return head + text
    }
}

extension Replica {
    /// Why a write of a conflict did not hold, in the reader's words (`Vocabulary.reason`) — but
    /// a request the approver rejected says who rejected it and why, as they wrote it:
    /// `lin 驳回了这个申请：折扣太高，最多 12%`. (The request is the one whose value is the
    /// conflict's losing write: the hub keeps that write's stamp.)
    public func reason(of c: LocalConflict, words: Vocabulary, chinese: Bool) -> String {
        let plain = words.reason(rule: c.rule, entity: c.entity, field: c.field, chinese: chinese)
        // A request decided or withdrawn before this write reached the hub: how, and by whom
        // (`lin 已批准这个申请`, `wei 已撤回这个申请`), as the request now says.
        if c.rule == RuleID.alreadyDecided.rawValue, let request = try? record(c.record), request.entity == workspace.approvalRequests,
            case let .member(state) = request["state"], state != "pending", let by = request.fields["state"]?.author
        {
            let who = authorName(by, chinese: chinese)
            let said = words.value(request.entity, "state", request["state"])
            return chinese
                ? "\(spokenSubject(who, chinese: true))已\(said.hasPrefix("已") ? String(said.dropFirst()) : said)这个申请"
                : "\(who) already \(state == "withdrawn" ? "withdrew" : said) this request"
        }
        guard c.rule == RuleID.approvalRejected.rawValue, let name = workspace.approvalRequests,
            let requests = try? store.list(entity: name, workspace: workspace),
            let request = requests.first(where: { r in
                guard case let .text(target) = r["target"], RecordID(parsing: target) == c.record else { return false }
                return r.fields["value"]?.stamp.hlc == c.hlc
            }),
            case let .text(decider) = request["decided_by"]
        else { return plain }
        let note = words.note(of: request, chinese: chinese)
        let approver = authorName(decider, chinese: chinese)
        return chinese ? "\(approver) 驳回了这个申请" + (note.map { "：\($0)" } ?? "") : "\(approver) rejected this request" + (note.map { ": \($0)" } ?? "")
    }
}

extension Replica {
    /// The requests of this user an approver rejected that the sync just brought back as
    /// conflicts (`SyncReport.lost`): each once (a loss and its reason are two conflicts of one
    /// request), as its deal and why — `新宇物流 续约：lin 驳回了这个申请：按 12% 重新申请` —
    /// with the deal's record for its id.
    public func rejections(in report: SyncReport, words: Vocabulary, chinese: Bool) throws -> [(record: RecordID, text: String)] {
        guard !report.lost.isEmpty else { return [] }
        var said = Set<String>()
        var out: [(record: RecordID, text: String)] = []
        for c in try store.conflicts() where c.rule == RuleID.approvalRejected.rawValue {
            guard report.lost.contains(ReplicaStore.OwnWrite(record: c.record, hlc: c.hlc.rawValue)) else { continue }
            let name = try subject(c.record, words: words)?.title ?? words.entity(c.entity)
            let text = name + (chinese ? "：" : ": ") + reason(of: c, words: words, chinese: chinese)
            if said.insert(text).inserted { out.append((c.record, text)) }
        }
        return out
    }
}

extension Replica {
    /// The requests another user settled in the sync that began when the trail ended at
    /// `position`, which no other line of the sync says — one its creator withdrew, one another
    /// approver decided — a line each, for the approvers who had it waiting:
    /// `东方物流 CRM 上线：wei 撤回了申请（折扣 → 25%）`. The reader's own requests are left out:
    /// their outcomes are said on the deal (its approval state, its stage) or as a rejection.
    ///
    /// `deal`: the deal each is on, whose line of the same sync need not say the approval state
    /// the hub set because of it (`changesByOthers(_:after:first:settled:)`).
    public func requestsSettledByOthers(after position: Int64, words: Vocabulary, chinese: Bool) throws -> [(record: RecordID, deal: RecordID?, text: String)] {
        guard let entity = workspace.approvalRequests else { return [] }
        var out: [(record: RecordID, deal: RecordID?, text: String)] = []
        for id in try store.pulledRecords(after: position, entities: [entity], notBy: user, skipping: nil) {
            guard let request = try record(id), request.creator != user, !request.isDeleted, case let .member(state) = request["state"], state != "pending",
                let line = try store.pulledHistory(of: id, after: position).last(where: { $0.field == "state" && $0.author != user })
            else { continue }
            let who = authorName(line.author, chinese: chinese)
            var deal: String?, dealID: RecordID?
            if case let .reference(d) = request["opportunity"] { (deal, dealID) = (try record(d)?.nameText, d) }
            let asked = requested(request, words: words, chinese: chinese)
            let said = words.value(entity, "state", request["state"])
            let did =
                switch state {
                case "withdrawn": chinese ? "撤回了申请" : "withdrew the request"
                case "approved": chinese ? "批准了申请" : "approved the request"
                case "rejected": chinese ? "驳回了申请" : "rejected the request"
                default: chinese ? "把申请改为「\(said)」" : "made the request \(said)"
                }
            var text = (deal ?? words.entity("opportunity")) + (chinese ? "：\(spokenSubject(who, chinese: true))\(did)（\(asked)）" : ": \(who) \(did) (\(asked))")
            if state == "rejected", let note = words.note(of: request, chinese: chinese) { text += (chinese ? "：" : ": ") + note }
            out.append((id, dealID, text))
        }
        return out
    }
}
