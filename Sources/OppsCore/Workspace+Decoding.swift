/// One problem in a workspace document, with where it is.
public struct WorkspaceIssue: Sendable, Hashable, CustomStringConvertible {
    public var position: SourcePosition
    /// A JSON-path-like location: `entities[0].fields[3].type`.
    public var path: String
    public var message: String
    /// The same in Chinese.
    public var chinese: String
    /// The problem alone, without what this build would take instead (an unknown key's message
    /// lists every key it knows): what a rep's `opps` says of a workspace it cannot read.
    public var brief: (message: String, chinese: String) { (briefMessage ?? message, briefChinese ?? chinese) }
    var briefMessage: String?, briefChinese: String?

    public init(position: SourcePosition, path: String, message: String, chinese: String, brief: (message: String, chinese: String)? = nil) {
        self.position = position
        self.path = path
        self.message = message
        self.chinese = chinese
        self.briefMessage = brief?.message
        self.briefChinese = brief?.chinese
    }

    public var description: String { "line \(position.line), column \(position.column): \(path): \(message)" }
    public var chineseDescription: String { "第 \(position.line) 行第 \(position.column) 列：\(path)：\(chinese)" }
}

/// A workspace document that cannot be used, with every problem found.
public struct WorkspaceError: Error, Sendable, CustomStringConvertible {
    public var issues: [WorkspaceIssue]
    public var description: String { issues.map(\.description).joined(separator: "\n") }
    public var chineseDescription: String { issues.map(\.chineseDescription).joined(separator: "\n") }
}

extension Workspace {
    /// Reads and validates a workspace document (Protocol/spec/workspace-format.md). Every problem is
    /// reported with its line and column; nothing partial is returned.
    public static func decode(_ text: String) throws(WorkspaceError) -> Workspace {
        let json: JSON
        do {
            json = try JSON.parse(text)
        } catch {
            throw WorkspaceError(issues: [WorkspaceIssue(position: error.position, path: "$", message: error.message, chinese: "不是有效的 JSON（\(error.message)）")])
        }
        var reader = WorkspaceReader()
        let workspace = reader.read(json)
        if let workspace, reader.issues.isEmpty { return workspace }
        throw WorkspaceError(
            issues: reader.issues.isEmpty
                ? [WorkspaceIssue(position: json.position, path: "$", message: "invalid workspace", chinese: "不是有效的工作区")] : reader.issues)
    }
}

private struct WorkspaceReader {
    var issues: [WorkspaceIssue] = []

    /// A problem at `node`, in English and in Chinese (`opps-hub workspace check` says the
    /// reader's; `--json` and the hub's HTTP answers carry the English).
    mutating func issue(_ node: JSON, _ path: String, _ message: String, _ chinese: String) {
        issues.append(WorkspaceIssue(position: node.position, path: path, message: message, chinese: chinese))
    }

    mutating func issue(at position: SourcePosition, _ path: String, _ message: String, _ chinese: String, brief: (String, String)? = nil) {
        issues.append(WorkspaceIssue(position: position, path: path, message: message, chinese: chinese, brief: brief))
    }

    /// Checks that an object has only the known keys; reports each unknown one.
    mutating func object(_ node: JSON, _ path: String, keys: Set<String>) -> Bool {
        guard let members = node.members else {
            issue(node, path, "expected an object, found \(node.kindName)", "应是对象，这里是 \(node.kindName)")
            return false
        }
        for m in members where !keys.contains(m.key) {
            issue(
                at: m.position, path, "unknown key \"\(m.key)\" (expected one of: \(keys.sorted().joined(separator: ", ")))",
                "没有键「\(m.key)」（可用：\(keys.sorted().joined(separator: "、"))）",
                brief: ("unknown key \"\(m.key)\"", "没有键「\(m.key)」"))
        }
        return true
    }

    mutating func string(_ node: JSON?, _ path: String, in parent: JSON, required: Bool = true) -> String? {
        guard let node else {
            if required { issue(parent, path, "missing", "缺少") }
            return nil
        }
        guard let s = node.string else { issue(node, path, "expected a string, found \(node.kindName)", "应是字符串，这里是 \(node.kindName)"); return nil }
        return s
    }

    mutating func name(_ node: JSON?, _ path: String, in parent: JSON) -> String? {
        guard let s = string(node, path, in: parent) else { return nil }
        let ok =
            !s.isEmpty && s.count <= 64
            && s.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
            } && !("0"..."9").contains(s.unicodeScalars.first!)
        if !ok {
            issue(node!, path, "\"\(s)\" is not a valid name (lowercase letters, digits, _ and -; not starting with a digit)", "「\(s)」不是有效的名称（小写字母、数字、_ 和 -，不以数字开头）")
        }
        return ok ? s : nil
    }

    mutating func strings(_ node: JSON?, _ path: String, in parent: JSON, required: Bool = false) -> [String]? {
        guard let node else {
            if required { issue(parent, path, "missing", "缺少") }
            return nil
        }
        guard let items = node.array else { issue(node, path, "expected an array of strings, found \(node.kindName)", "应是字符串数组，这里是 \(node.kindName)"); return nil }
        var out = [String]()
        for (i, item) in items.enumerated() {
            guard let s = item.string else { issue(item, "\(path)[\(i)]", "expected a string, found \(item.kindName)", "应是字符串，这里是 \(item.kindName)"); continue }
            out.append(s)
        }
        return out
    }

    mutating func bool(_ node: JSON?, _ path: String, default value: Bool) -> Bool {
        guard let node else { return value }
        guard let b = node.bool else { issue(node, path, "expected true or false, found \(node.kindName)", "应是 true 或 false，这里是 \(node.kindName)"); return value }
        return b
    }

    mutating func integer(_ node: JSON?, _ path: String, in parent: JSON, range: ClosedRange<Int>, required: Bool = true) -> Int? {
        guard let node else {
            if required { issue(parent, path, "missing", "缺少") }
            return nil
        }
        guard let i = node.int else { issue(node, path, "expected a whole number, found \(node.kindName)", "应是整数，这里是 \(node.kindName)"); return nil }
        guard range.contains(i) else {
            issue(node, path, "\(i) is out of range \(range.lowerBound)…\(range.upperBound)", "\(i) 超出范围 \(range.lowerBound)…\(range.upperBound)"); return nil
        }
        return i
    }

    mutating func decimal(_ node: JSON?, _ path: String, in parent: JSON) -> ExactDecimal? {
        guard let node else { issue(parent, path, "missing", "缺少"); return nil }
        guard let s = node.string ?? node.numberText else { issue(node, path, "expected a decimal string such as \"10.00\"", "应是写成字符串的小数，如 \"10.00\""); return nil }
        do { return try ExactDecimal(parsing: s) } catch { issue(node, path, error.message, "不是小数（\(error.message)）"); return nil }
    }

    /// An integer or decimal field's `min` and `max`: each in the kind's range, with no more
    /// digits after the point than the field keeps (none for an integer), and `min` ≤ `max`.
    mutating func readBounds(_ f: JSON, _ fp: String, type: FieldType) -> (ExactDecimal?, ExactDecimal?) {
        var bounds = [ExactDecimal?]()
        for key in ["min", "max"] {
            guard let node = f[key] else { bounds.append(nil); continue }
            let path = "\(fp).\(key)"
            let scale: UInt8
            switch type {
            case .integer: scale = 0
            case let .decimal(s): scale = s
            default:
                issue(node, path, "only an integer or decimal field has bounds", "只有整数或小数字段才有上下限")
                bounds.append(nil)
                continue
            }
            guard let bound = decimal(node, path, in: f) else { bounds.append(nil); continue }
            guard bound.rescaled(to: scale) != nil else {
                if bound.scale <= scale {
                    issue(node, path, "\(bound) is out of range for this field", "\(bound) 超出了这个字段的范围")
                } else {
                    issue(
                        node, path, scale == 0 ? "\(bound) is not a whole number" : "\(bound) has more than \(scale) digits after the point",
                        scale == 0 ? "\(bound) 不是整数" : "\(bound) 的小数位多于 \(scale) 位")
                }
                bounds.append(nil)
                continue
            }
            bounds.append(bound)
        }
        if let low = bounds[0], let high = bounds[1], high < low {
            issue(f["max"]!, fp + ".max", "max \(high) is less than min \(low)", "上限 \(high) 小于下限 \(low)")
            return (nil, nil)
        }
        return (bounds[0], bounds[1])
    }

    /// `"unit": "percent"` on an integer or decimal field; nil when absent or wrong (an issue).
    mutating func readUnit(_ f: JSON, _ fp: String, type: FieldType) -> NumberUnit? {
        guard let node = f["unit"] else { return nil }
        let path = "\(fp).unit"
        switch type {
        case .integer, .decimal: break
        default:
            issue(node, path, "only an integer or decimal field has a unit", "只有整数或小数字段才有单位")
            return nil
        }
        guard let name = string(node, path, in: f) else { return nil }
        guard let unit = NumberUnit(rawValue: name) else {
            issue(node, path, "unknown unit \"\(name)\" (percent)", "没有单位「\(name)」（可用：percent）")
            return nil
        }
        return unit
    }

    /// `"team": {"entity": "membership", "user": "user", "state": "state", "active": "active"}`:
    /// records of an entity hanging off a staged one whose state is `active` make a team.
    mutating func readTeam(_ node: JSON, entities: [Entity]) -> TeamRule? {
        guard object(node, "team", keys: ["entity", "user", "state", "active"]),
            let name = string(node["entity"], "team.entity", in: node), let user = string(node["user"], "team.user", in: node),
            let state = string(node["state"], "team.state", in: node), let active = string(node["active"], "team.active", in: node)
        else { return nil }
        guard let e = entities.first(where: { $0.name == name }) else { issue(node["entity"]!, "team.entity", "unknown entity \"\(name)\"", "没有实体「\(name)」"); return nil }
        guard let via = e.visibleVia, case let .reference(parent)? = e.field(via)?.type, entities.first(where: { $0.name == parent })?.stageField != nil else {
            issue(node["entity"]!, "team.entity", "\"\(name)\" must hang off the staged entity (visible_via)", "「\(name)」必须挂在有阶段的实体下（visible_via）"); return nil
        }
        guard e.field(user)?.type == .user else { issue(node["user"]!, "team.user", "\(name) has no user field \"\(user)\"", "\(name) 没有用户字段「\(user)」"); return nil }
        guard case let .enumeration(members)? = e.field(state)?.type else {
            issue(node["state"]!, "team.state", "\(name) has no enum field \"\(state)\"", "\(name) 没有选项字段「\(state)」"); return nil
        }
        guard members.contains(active) else {
            issue(node["active"]!, "team.active", "\"\(active)\" is not a member of \(name).\(state)", "「\(active)」不是 \(name).\(state) 的选项"); return nil
        }
        return TeamRule(entity: name, parent: via, user: user, state: state, active: active)
    }

    // MARK: The document

    mutating func read(_ root: JSON) -> Workspace? {
        guard
            object(
                root, "$",
                keys: [
                    "format", "version", "name", "roles", "stages", "entities", "handoff", "approvals",
                    "assignment", "override_roles", "stale_days", "checkin_skew_minutes", "stage_history", "description", "forecast", "locale", "team",
                ])
        else { return nil }
        if let format = string(root["format"], "format", in: root), format != Workspace.format {
            issue(
                root["format"]!, "format", "unsupported format \"\(format)\" (this version reads \"\(Workspace.format)\")", "不支持格式「\(format)」（这个版本读「\(Workspace.format)」）"
            )
        }
        let version = integer(root["version"], "version", in: root, range: 1...Int(Int32.max))
        let name = string(root["name"], "name", in: root) ?? ""
        let staleDays = integer(root["stale_days"], "stale_days", in: root, range: 1...3650, required: false) ?? 14
        let skew = integer(root["checkin_skew_minutes"], "checkin_skew_minutes", in: root, range: 0...10_080, required: false) ?? 10

        // Roles
        var roles = [Role]()
        if let list = arrayOf(root, "roles") {
            for (i, node) in list.enumerated() {
                let p = "roles[\(i)]"
                guard object(node, p, keys: ["name", "title", "labels", "sees"]) else { continue }
                guard let n = self.name(node["name"], p + ".name", in: node) else { continue }
                if roles.contains(where: { $0.name == n }) { issue(node["name"]!, p + ".name", "duplicate role \"\(n)\"", "角色「\(n)」重复") }
                var sees = [VisibilityCondition]()
                for (j, s) in (strings(node["sees"], p + ".sees", in: node, required: true) ?? []).enumerated() {
                    if s == "all" {
                        sees.append(.all)
                    } else if let r = Relation(rawValue: s), r != .member, r != .assignee {
                        sees.append(.relation(r))
                    } else if s.hasPrefix("stage:") {
                        sees.append(.stage(String(s.dropFirst(6))))
                    } else {
                        issue(
                            node["sees"]!.array![j], "\(p).sees[\(j)]", "unknown condition \"\(s)\" (owner, team, creator, managed, stage:NAME, all)",
                            "没有条件「\(s)」（可用：owner、team、creator、managed、stage:阶段名、all）")
                    }
                }
                roles.append(Role(name: n, title: node["title"]?.string ?? "", sees: sees))
                roles[roles.count - 1].labels = labels(node["labels"], p + ".labels")
            }
            checkLabelScope("role", roles.map { ($0.name, $0.labels) }, list, "roles")
        }
        let roleNames = Set(roles.map(\.name))

        // Stages
        var stages = [Stage]()
        if let list = arrayOf(root, "stages") {
            for (i, node) in list.enumerated() {
                let p = "stages[\(i)]"
                guard object(node, p, keys: ["name", "title", "labels", "leave_requires", "enter_requires", "closed", "from_any_open", "confirm_by", "probability"])
                else { continue }
                guard let n = self.name(node["name"], p + ".name", in: node) else { continue }
                if stages.contains(where: { $0.name == n }) { issue(node["name"]!, p + ".name", "duplicate stage \"\(n)\"", "阶段「\(n)」重复") }
                let confirm = strings(node["confirm_by"], p + ".confirm_by", in: node) ?? []
                checkRoles(confirm, node["confirm_by"], p + ".confirm_by", roleNames)
                stages.append(
                    Stage(
                        name: n, title: node["title"]?.string ?? "",
                        leaveRequires: strings(node["leave_requires"], p + ".leave_requires", in: node) ?? [],
                        enterRequires: strings(node["enter_requires"], p + ".enter_requires", in: node) ?? [],
                        closed: bool(node["closed"], p + ".closed", default: false),
                        fromAnyOpen: bool(node["from_any_open"], p + ".from_any_open", default: false),
                        confirmBy: Set(confirm)))
                stages[stages.count - 1].probability = integer(node["probability"], p + ".probability", in: node, range: 0...100, required: false)
                stages[stages.count - 1].labels = labels(node["labels"], p + ".labels")
            }
            checkLabelScope("stage", stages.map { ($0.name, $0.labels) }, list, "stages")
        }
        let stageNames = Set(stages.map(\.name))
        let roleNodes = root["roles"]?.array ?? []
        for role in roles {
            // Found by name: roles that did not parse are not in `roles`.
            let i = roleNodes.firstIndex { $0["name"]?.string == role.name }
            for case let .stage(s) in role.sees where !stageNames.contains(s) {
                issue(i.flatMap { roleNodes[$0]["sees"] } ?? root, "roles[\(i.map(String.init) ?? role.name)].sees", "unknown stage \"\(s)\"", "没有阶段「\(s)」")
            }
        }

        // Entities
        var entities = [Entity]()
        if let list = arrayOf(root, "entities") {
            for (i, node) in list.enumerated() {
                if let e = readEntity(node, "entities[\(i)]", roles: roleNames, stages: stages) {
                    if entities.contains(where: { $0.name == e.name }) {
                        issue(node["name"]!, "entities[\(i)].name", "duplicate entity \"\(e.name)\"", "实体「\(e.name)」重复")
                    }
                    if entities.contains(where: { $0.number == e.number }) {
                        issue(node["number"]!, "entities[\(i)].number", "entity number \(e.number) is used twice", "实体编号 \(e.number) 用了两次")
                    }
                    entities.append(e)
                }
            }
            checkLabelScope("entity", entities.map { ($0.name, $0.labels) }, list, "entities")
        }
        // Cross-checks that need every entity: references and stage gate fields.
        // Entities and fields that did not parse are left out of `entities`: their nodes are found
        // by name, not by position (a position mismatch trapped on a fuzzed document).
        let entityNodes = root["entities"]?.array ?? []
        for e in entities {
            let i = entityNodes.firstIndex { $0["name"]?.string == e.name }
            let fieldNodes = i.flatMap { entityNodes[$0]["fields"]?.array } ?? []
            for f in e.fields {
                if case let .reference(target) = f.type, !entities.contains(where: { $0.name == target }) {
                    let j = fieldNodes.firstIndex { $0["name"]?.string == f.name }
                    issue(
                        j.map { fieldNodes[$0] } ?? i.map { entityNodes[$0] } ?? root,
                        "entities[\(i.map(String.init) ?? e.name)].fields[\(j.map(String.init) ?? f.name)].entity", "unknown entity \"\(target)\"", "没有实体「\(target)」")
                }
            }
        }
        // The stage field's members are the stages: they read as the stages' labels.
        for (i, e) in entities.enumerated() {
            guard let sf = e.stageField, let f = e.field(sf), f.memberLabels.isEmpty, let j = e.fields.firstIndex(of: f) else { continue }
            for stage in stages where !stage.labels.isEmpty { entities[i].fields[j].memberLabels[stage.name] = stage.labels }
        }
        let staged = entities.first { $0.stageField != nil }
        let stageNodes = root["stages"]?.array ?? []
        for stage in stages {
            let i = stageNodes.firstIndex { $0["name"]?.string == stage.name }
            let node = i.map { stageNodes[$0] } ?? root
            for f in stage.leaveRequires + stage.enterRequires where staged?.field(f) == nil {
                issue(node, "stages[\(i.map(String.init) ?? stage.name)]", "gate names unknown field \"\(f)\"", "阶段要求里的字段「\(f)」不存在")
            }
        }

        let handoff = root["handoff"].flatMap { readHandoff($0, stages: stageNames, entity: staged) }
        var approvals = root["approvals"].flatMap { readApprovals($0, roles: roleNames, stages: stageNames, entity: staged) }
        if let node = root["approvals"], let requests = node["requests"].flatMap({ string($0, "approvals.requests", in: node) }) {
            if let e = entities.first(where: { $0.name == requests }) {
                checkFields(e, ["opportunity", "kind", "target", "field", "value", "state", "decided_by", "note"], node["requests"]!, "approvals.requests")
                approvals?.requests = requests
            } else {
                issue(node["requests"]!, "approvals.requests", "unknown entity \"\(requests)\"", "没有实体「\(requests)」")
            }
        }
        var stageHistory: String?
        if let node = root["stage_history"], let name = string(node, "stage_history", in: root) {
            if let f = staged?.field(name) {
                if case .text = f.type { stageHistory = name } else { issue(node, "stage_history", "\"\(name)\" must be a text field", "「\(name)」必须是文字字段") }
            } else {
                issue(node, "stage_history", "the staged entity has no field \"\(name)\"", "有阶段的实体没有字段「\(name)」")
            }
        }
        let assignment = root["assignment"].flatMap { readAssignment($0, roles: roleNames) }
        let overrideRoles = strings(root["override_roles"], "override_roles", in: root) ?? []
        checkRoles(overrideRoles, root["override_roles"], "override_roles", roleNames)

        guard let version else { return nil }
        var workspace = Workspace(
            version: UInt64(version), name: name, roles: roles, stages: stages, entities: entities, handoff: handoff,
            approvals: approvals, assignment: assignment, overrideRoles: Set(overrideRoles), staleDays: staleDays)
        workspace.checkinSkewMinutes = skew
        workspace.stageHistory = stageHistory
        if let node = root["team"] { workspace.teamRule = readTeam(node, entities: entities) }
        // The relations that hold on some records only (visibility.md §3), checked on every rule
        // that names one, with the rule's place in the document.
        for e in entities {
            let atStages: [String?] = e.stageField == nil ? [nil] : stages.map(\.name) + [nil]
            let i = entityNodes.firstIndex { $0["name"]?.string == e.name }
            for g in e.groups {
                for (role, rule) in g.access.sorted(by: { $0.key < $1.key }) {
                    let named = rule.clauses.reduce(into: Set<Relation>()) { $0.formUnion($1.relations) }
                    guard named.contains(.member) || named.contains(.assignee) else { continue }
                    let node = i.flatMap { entityNodes[$0]["groups"]?[g.name]?[role] } ?? i.map { entityNodes[$0] } ?? root
                    let path = "entities[\(i.map(String.init) ?? e.name)].groups.\(g.name).\(role)"
                    // `member` holds only on a record of the team's entity: named anywhere else it
                    // would never match, silently hiding what it was written to show.
                    if named.contains(.member), e.name != workspace.teamRule?.entity {
                        issue(
                            node, path,
                            "\"if member\" holds only on a team membership (\(workspace.teamRule?.entity ?? "no team entity here")), not on \(e.name)",
                            "「if member」只对团队成员记录（\(workspace.teamRule?.entity ?? "本工作区没有团队")）成立，不适用于 \(e.name)")
                    }
                    // `assignee` holds only where the entity names whom a record is for, and decides
                    // what a role may write, never whether it sees a field: the hub's visibility
                    // index holds no assignees.
                    guard named.contains(.assignee) else { continue }
                    guard e.assignedTo != nil else {
                        issue(
                            node, path, "\"if assignee\" needs \(e.name) to name its assignee (\"assigned_to\")",
                            "「if assignee」需要 \(e.name) 用「assigned_to」指明执行人字段")
                        continue
                    }
                    let decidesSight = atStages.contains { stage in
                        Relation.everySet.contains { r in
                            !r.contains(.assignee)
                                && (rule.access(stage: stage, relations: r) == .hidden) != (rule.access(stage: stage, relations: r.union([.assignee])) == .hidden)
                        }
                    }
                    if decidesSight {
                        issue(
                            node, path, "\"if assignee\" may decide what \(role) writes, not what it sees: \"\(rule.source)\" hides the group unless assigned",
                            "「if assignee」只能决定\(role)能写什么，不能决定能看到什么：「\(rule.source)」在未指派时隐藏了这组字段")
                    }
                }
            }
        }
        if let node = root["locale"], let tag = string(node, "locale", in: root) {
            if LocaleTag.isValid(tag) {
                workspace.locale = tag
            } else {
                issue(node, "locale", "\"\(tag)\" is not a language tag such as zh-CN or en", "「\(tag)」不是语言标记（如 zh-CN 或 en）")
            }
        }
        if let node = root["forecast"], object(node, "forecast", keys: ["best_case_from", "commit_from"]),
            let best = string(node["best_case_from"], "forecast.best_case_from", in: node), let commit = string(node["commit_from"], "forecast.commit_from", in: node)
        {
            for (key, stage) in [("best_case_from", best), ("commit_from", commit)] where !stageNames.contains(stage) {
                issue(node[key]!, "forecast.\(key)", "unknown stage \"\(stage)\"", "没有阶段「\(stage)」")
            }
            if let b = stages.firstIndex(where: { $0.name == best }), let c = stages.firstIndex(where: { $0.name == commit }), c < b {
                issue(node["commit_from"]!, "forecast.commit_from", "commit starts before best case", "commit（承诺）不能早于 best case（最佳情况）开始")
            }
            workspace.forecast = ForecastCategories(bestCaseFrom: best, commitFrom: commit)
        }
        return workspace
    }

    /// `{"zh-CN": "需求挖掘", "en": "discovery"}`: tags valid, labels 1–100 characters of printable
    /// text without `=` (they are typed in FIELD=VALUE) and without surrounding spaces.
    mutating func labels(_ node: JSON?, _ path: String) -> Labels {
        guard let node else { return [:] }
        guard object(node, path, keys: Set(node.members?.map(\.key) ?? [])) else { return [:] }
        var out = Labels()
        for m in node.members ?? [] {
            guard LocaleTag.isValid(m.key) else {
                issue(at: m.position, path, "\"\(m.key)\" is not a language tag such as zh-CN or en", "「\(m.key)」不是语言标记（如 zh-CN 或 en）"); continue
            }
            guard let text = string(m.value, "\(path).\(m.key)", in: node) else { continue }
            let ok =
                (1...100).contains(text.count) && !text.contains("=") && text.first?.isWhitespace == false && text.last?.isWhitespace == false
                && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
            guard ok else {
                issue(
                    m.value, "\(path).\(m.key)", "a label is 1–100 characters, no \"=\", no control characters, no surrounding spaces", "标签是 1–100 个字符，不含「=」和控制字符，首尾没有空格");
                continue
            }
            out[m.key] = text
        }
        return out
    }

    /// What `checkLabelScope` checks, in Chinese.
    static func chineseKind(_ kind: String) -> String {
        ["role": "角色", "stage": "阶段", "entity": "实体", "member": "选项", "field": "字段"][kind] ?? kind
    }

    /// Input accepts a name or any label (any case), so within one scope (the roles, the stages,
    /// an entity's fields, an enum's members) no label may be another element's name or label.
    mutating func checkLabelScope(_ kind: String, _ items: [(name: String, labels: Labels)], _ nodes: [JSON]?, _ path: String, at node: JSON? = nil) {
        var owner = [String: String]()
        for item in items { owner[item.name.lowercased()] = item.name }
        for item in items {
            for label in Set(item.labels.values.map { $0.lowercased() }) {
                if let other = owner[label], other != item.name {
                    let i = nodes?.firstIndex { $0["name"]?.string == item.name }
                    issue(
                        node ?? i.map { nodes![$0] } ?? JSON(.null), path,
                        "label \"\(label)\" of \(kind) \"\(item.name)\" is also \(kind) \"\(other)\"'s name or label: input would be ambiguous",
                        "\(Self.chineseKind(kind))「\(item.name)」的标签「\(label)」也是\(Self.chineseKind(kind))「\(other)」的名称或标签：输入时会分不清")
                } else {
                    owner[label] = item.name
                }
            }
        }
    }

    mutating func arrayOf(_ parent: JSON, _ key: String) -> [JSON]? {
        guard let node = parent[key] else { issue(parent, key, "missing", "缺少"); return nil }
        guard let a = node.array else { issue(node, key, "expected an array, found \(node.kindName)", "应是数组，这里是 \(node.kindName)"); return nil }
        if a.isEmpty { issue(node, key, "must not be empty", "不能为空") }
        return a
    }

    mutating func checkRoles(_ names: [String], _ node: JSON?, _ path: String, _ roles: Set<String>) {
        for (j, r) in names.enumerated() where !roles.contains(r) {
            issue(node?.array?[j] ?? node ?? JSON(.null), "\(path)[\(j)]", "unknown role \"\(r)\"", "没有角色「\(r)」")
        }
    }

    mutating func readEntity(_ node: JSON, _ p: String, roles: Set<String>, stages: [Stage]) -> Entity? {
        guard
            object(
                node, p,
                keys: [
                    "name", "number", "stage_field", "append_only", "visible_via", "create", "owner_on_create",
                    "delete", "groups", "group_labels", "fields", "title", "labels", "assigned_to",
                ])
        else { return nil }
        guard let name = self.name(node["name"], p + ".name", in: node),
            let number = integer(node["number"], p + ".number", in: node, range: 1...65535)
        else { return nil }
        let stageNames = Set(stages.map(\.name))
        let stageField = node["stage_field"].flatMap { string($0, p + ".stage_field", in: node) }

        // Groups: role → access rule text.
        var groups = [FieldGroup]()
        if let gnode = node["groups"] {
            if object(gnode, p + ".groups", keys: Set(gnode.members?.map(\.key) ?? [])) {
                for m in gnode.members ?? [] {
                    let gp = "\(p).groups.\(m.key)"
                    guard object(m.value, gp, keys: roles) else { continue }
                    var access = [String: AccessRule]()
                    for cell in m.value.members ?? [] {
                        guard let text = string(cell.value, "\(gp).\(cell.key)", in: m.value) else { continue }
                        switch AccessRule.parse(text, stages: stageField == nil ? nil : stageNames, stageOrder: stages.map(\.name)) {
                        case let .success(rule): access[cell.key] = rule
                        case let .failure(e): issue(cell.value, "\(gp).\(cell.key)", e.message, e.chinese ?? "不是有效的权限（\(e.message)）")
                        }
                    }
                    groups.append(FieldGroup(name: m.key, access: access))
                }
            }
        } else {
            issue(node, p + ".groups", "missing", "缺少")
        }
        if let lnode = node["group_labels"], object(lnode, p + ".group_labels", keys: Set(groups.map(\.name))) {
            for m in lnode.members ?? [] {
                guard let i = groups.firstIndex(where: { $0.name == m.key }) else { continue }
                groups[i].labels = labels(m.value, "\(p).group_labels.\(m.key)")
            }
        }

        var fields = [Field]()
        if let list = node["fields"]?.array {
            for (i, f) in list.enumerated() {
                let fp = "\(p).fields[\(i)]"
                guard
                    object(
                        f, fp,
                        keys: [
                            "name", "number", "type", "group", "scale", "members", "entity", "max_length", "title", "write_once", "labels", "member_labels", "min", "max",
                            "unit",
                        ])
                else { continue }
                guard let fname = self.name(f["name"], fp + ".name", in: f),
                    let fnum = integer(f["number"], fp + ".number", in: f, range: 1...65535),
                    let tname = string(f["type"], fp + ".type", in: f),
                    let group = string(f["group"], fp + ".group", in: f)
                else { continue }
                if fields.contains(where: { $0.name == fname }) { issue(f["name"]!, fp + ".name", "duplicate field \"\(fname)\"", "字段「\(fname)」重复") }
                if fields.contains(where: { $0.number == UInt32(fnum) }) {
                    issue(f["number"]!, fp + ".number", "field number \(fnum) is used twice in \(name)", "字段编号 \(fnum) 在 \(name) 中用了两次")
                }
                if !groups.contains(where: { $0.name == group }) { issue(f["group"]!, fp + ".group", "unknown field group \"\(group)\"", "没有字段组「\(group)」") }
                let type: FieldType?
                switch tname {
                case "text": type = .text(maxLength: integer(f["max_length"], fp + ".max_length", in: f, range: 1...1_000_000, required: false) ?? 10_000)
                case "integer": type = .integer
                case "decimal": type = integer(f["scale"], fp + ".scale", in: f, range: 0...18).map { .decimal(scale: UInt8($0)) }
                case "date": type = .date
                case "timestamp": type = .timestamp
                case "boolean": type = .boolean
                case "user": type = .user
                case "enum":
                    let members = strings(f["members"], fp + ".members", in: f, required: true) ?? []
                    if members.isEmpty { issue(f, fp + ".members", "an enum needs at least one member", "选项字段至少要有一个选项") }
                    if Set(members).count != members.count { issue(f["members"] ?? f, fp + ".members", "duplicate member", "选项重复") }
                    type = .enumeration(members)
                case "reference": type = string(f["entity"], fp + ".entity", in: f).map { .reference(entity: $0) }
                default:
                    issue(
                        f["type"]!, fp + ".type", "unknown type \"\(tname)\" (text, integer, decimal, date, timestamp, enum, boolean, reference, user)",
                        "没有类型「\(tname)」（可用：text、integer、decimal、date、timestamp、enum、boolean、reference、user）")
                    type = nil
                }
                let once = bool(f["write_once"], fp + ".write_once", default: false)
                if once, fname == stageField { issue(f["write_once"]!, fp + ".write_once", "the stage field cannot be write-once", "阶段字段不能设为只写一次") }
                if let type {
                    var field = Field(name: fname, number: UInt32(fnum), type: type, group: group, writeOnce: once)
                    field.labels = labels(f["labels"], fp + ".labels")
                    if let mnode = f["member_labels"] {
                        if case let .enumeration(members) = type {
                            if object(mnode, fp + ".member_labels", keys: Set(members)) {
                                for m in mnode.members ?? [] { field.memberLabels[m.key] = labels(m.value, "\(fp).member_labels.\(m.key)") }
                                let scope = members.map { ($0, field.memberLabels[$0] ?? [:]) }
                                checkLabelScope("member", scope, nil, fp + ".member_labels", at: mnode)
                            }
                        } else {
                            issue(mnode, fp + ".member_labels", "only an enum field has member labels", "只有选项字段才有选项标签")
                        }
                    }
                    (field.minimum, field.maximum) = readBounds(f, fp, type: type)
                    field.unit = readUnit(f, fp, type: type)
                    fields.append(field)
                }
            }
            checkLabelScope("field", fields.map { ($0.name, $0.labels) }, list, p + ".fields")
        } else {
            issue(node, p + ".fields", "missing or not an array", "缺少，或不是数组")
        }

        if let stageField {
            if let f = fields.first(where: { $0.name == stageField }) {
                if case let .enumeration(members) = f.type {
                    if members != stages.map(\.name) {
                        issue(node["stage_field"]!, p + ".stage_field", "the stage field's members must be the stages, in order", "阶段字段的选项必须是各个阶段，顺序相同")
                    }
                } else {
                    issue(node["stage_field"]!, p + ".stage_field", "the stage field must be an enum", "阶段字段必须是选项字段")
                }
            } else {
                issue(node["stage_field"]!, p + ".stage_field", "unknown field \"\(stageField)\"", "没有字段「\(stageField)」")
            }
        }

        var create = [String: [String]]()
        if let cnode = node["create"], object(cnode, p + ".create", keys: roles) {
            for m in cnode.members ?? [] {
                let list = strings(m.value, "\(p).create.\(m.key)", in: cnode) ?? []
                for s in list where !stageNames.contains(s) || stageField == nil {
                    issue(
                        m.value, "\(p).create.\(m.key)", stageField == nil ? "\(name) has no stages: use []" : "unknown stage \"\(s)\"",
                        stageField == nil ? "\(name) 没有阶段：请写 []" : "没有阶段「\(s)」")
                }
                create[m.key] = list
            }
        }
        let owners = strings(node["owner_on_create"], p + ".owner_on_create", in: node) ?? []
        checkRoles(owners, node["owner_on_create"], p + ".owner_on_create", roles)
        let deleters = strings(node["delete"], p + ".delete", in: node) ?? []
        checkRoles(deleters, node["delete"], p + ".delete", roles)
        if !owners.isEmpty, !fields.contains(where: { $0.name == "owner" && $0.type == .user }) {
            issue(node, p + ".owner_on_create", "needs a field \"owner\" of type user", "需要一个用户类型的字段「owner」")
        }
        let via = node["visible_via"].flatMap { string($0, p + ".visible_via", in: node) }
        if let via, !fields.contains(where: { if case .reference = $0.type { $0.name == via } else { false } }) {
            issue(node["visible_via"]!, p + ".visible_via", "must name a reference field of \(name)", "必须是 \(name) 的引用字段")
        }
        // I14: the reference a record hangs off by is write-once, marked or not — a writer of a
        // colleague's task must not take it off the deal (out of its owner's and manager's
        // sight) nor onto another deal's readers. A merge's re-pointing is the hub's own.
        if let via, let i = fields.firstIndex(where: { $0.name == via }) { fields[i].writeOnce = true }
        let assignedTo = node["assigned_to"].flatMap { string($0, p + ".assigned_to", in: node) }
        if let assignedTo, !fields.contains(where: { $0.name == assignedTo && $0.type == .user }) {
            issue(node["assigned_to"]!, p + ".assigned_to", "must name a user field of \(name)", "必须是 \(name) 的用户字段")
        }
        var entity = Entity(
            name: name, number: UInt32(number), stageField: stageField, appendOnly: bool(node["append_only"], p + ".append_only", default: false),
            visibleVia: via, create: create, ownerOnCreate: Set(owners), delete: Set(deleters), groups: groups, fields: fields)
        entity.labels = labels(node["labels"], p + ".labels")
        entity.assignedTo = assignedTo
        return entity
    }

    mutating func readHandoff(_ node: JSON, stages: Set<String>, entity: Entity?) -> Handoff? {
        guard object(node, "handoff", keys: ["from", "to", "checklist", "reject_reason"]) else { return nil }
        guard let from = string(node["from"], "handoff.from", in: node), let to = string(node["to"], "handoff.to", in: node) else { return nil }
        for (k, s) in [("from", from), ("to", to)] where !stages.contains(s) { issue(node[k]!, "handoff.\(k)", "unknown stage \"\(s)\"", "没有阶段「\(s)」") }
        let checklist = strings(node["checklist"], "handoff.checklist", in: node, required: true) ?? []
        for (i, f) in checklist.enumerated() where entity?.field(f)?.type != .boolean {
            issue(node["checklist"]!.array![i], "handoff.checklist[\(i)]", "\"\(f)\" is not a boolean field of the staged entity", "「\(f)」不是有阶段的实体的布尔字段")
        }
        let reason = node["reject_reason"].flatMap { string($0, "handoff.reject_reason", in: node) }
        if let reason, entity?.field(reason) == nil { issue(node["reject_reason"]!, "handoff.reject_reason", "unknown field \"\(reason)\"", "没有字段「\(reason)」") }
        return Handoff(from: from, to: to, checklist: checklist, rejectReason: reason)
    }

    /// An entity the hub itself reads and writes must have these fields.
    mutating func checkFields(_ e: Entity, _ names: [String], _ node: JSON, _ path: String) {
        let missing = names.filter { e.field($0) == nil }
        if !missing.isEmpty {
            issue(node, path, "entity \"\(e.name)\" lacks field(s): " + missing.joined(separator: ", "), "实体「\(e.name)」缺少字段：" + missing.joined(separator: "、"))
        }
    }

    mutating func readApprovals(_ node: JSON, roles: Set<String>, stages: Set<String>, entity: Entity?) -> Approvals? {
        guard object(node, "approvals", keys: ["approvers", "state_field", "rules", "lock_groups", "requests"]) else { return nil }
        let approvers = strings(node["approvers"], "approvals.approvers", in: node, required: true) ?? []
        checkRoles(approvers, node["approvers"], "approvals.approvers", roles)
        let stateField = string(node["state_field"], "approvals.state_field", in: node) ?? ""
        if let f = entity?.field(stateField) {
            let need = ["none", "pending", "approved", "rejected"]
            if case let .enumeration(m) = f.type, need.allSatisfy(m.contains) {
            } else {
                issue(
                    node["state_field"]!, "approvals.state_field", "must be an enum field with members none, pending, approved, rejected",
                    "必须是选项字段，选项为 none、pending、approved、rejected")
            }
        } else if node["state_field"] != nil {
            issue(node["state_field"]!, "approvals.state_field", "unknown field \"\(stateField)\"", "没有字段「\(stateField)」")
        }
        var rules = [Approvals.Rule]()
        for (i, r) in (node["rules"]?.array ?? []).enumerated() {
            let p = "approvals.rules[\(i)]"
            guard object(r, p, keys: ["field", "above", "leaving"]) else { continue }
            guard let field = string(r["field"], p + ".field", in: r), let above = decimal(r["above"], p + ".above", in: r) else { continue }
            if let f = entity?.field(field) {
                if case .decimal = f.type {} else { issue(r["field"]!, p + ".field", "\"\(field)\" is not a decimal field", "「\(field)」不是小数字段") }
            } else {
                issue(r["field"]!, p + ".field", "unknown field \"\(field)\"", "没有字段「\(field)」")
            }
            let leaving = r["leaving"].flatMap { string($0, p + ".leaving", in: r) }
            if let leaving, !stages.contains(leaving) { issue(r["leaving"]!, p + ".leaving", "unknown stage \"\(leaving)\"", "没有阶段「\(leaving)」") }
            rules.append(Approvals.Rule(field: field, above: above, leaving: leaving))
        }
        let locks = strings(node["lock_groups"], "approvals.lock_groups", in: node) ?? []
        for (i, g) in locks.enumerated() where entity?.group(g) == nil {
            issue(node["lock_groups"]!.array![i], "approvals.lock_groups[\(i)]", "unknown field group \"\(g)\"", "没有字段组「\(g)」")
        }
        return Approvals(approvers: Set(approvers), stateField: stateField, rules: rules, lockGroups: Set(locks))
    }

    mutating func readAssignment(_ node: JSON, roles: Set<String>) -> Assignment? {
        guard object(node, "assignment", keys: ["role", "strategy", "within", "skip_at_capacity"]) else { return nil }
        guard let role = string(node["role"], "assignment.role", in: node) else { return nil }
        if !roles.contains(role) { issue(node["role"]!, "assignment.role", "unknown role \"\(role)\"", "没有角色「\(role)」") }
        let strategy = string(node["strategy"], "assignment.strategy", in: node, required: false) ?? "round-robin"
        if strategy != "round-robin" {
            issue(node["strategy"]!, "assignment.strategy", "unknown strategy \"\(strategy)\" (round-robin)", "没有分配方式「\(strategy)」（可用：round-robin）")
        }
        let within = node["within"].flatMap { string($0, "assignment.within", in: node) }
        if let within, within != "territory" { issue(node["within"]!, "assignment.within", "unknown scope \"\(within)\" (territory)", "没有范围「\(within)」（可用：territory）") }
        return Assignment(role: role, strategy: strategy, within: within, skipAtCapacity: bool(node["skip_at_capacity"], "assignment.skip_at_capacity", default: true))
    }
}

extension AccessRule {
    /// Parses `ACCESS [in STAGES] [if RELATIONS] (; …)*`. `stages` nil: the entity has no
    /// stages, so `in` is an error.
    public static func parse(_ text: String, stages: Set<String>?, stageOrder: [String]? = nil) -> Result<AccessRule, ValueError> {
        var clauses = [Clause]()
        for raw in text.split(separator: ";", omittingEmptySubsequences: false) {
            let words = raw.split(separator: " ").map(String.init)
            guard let first = words.first else { return .failure(ValueError("empty clause in \"\(text)\"", chinese: "「\(text)」里有空的一段")) }
            guard let access = Access(name: first) else {
                return .failure(
                    ValueError(
                        "unknown access \"\(first)\" (hidden, read, propose, write, own, override)", chinese: "没有权限「\(first)」（可用：hidden、read、propose、write、own、override）")
                )
            }
            var clause = Clause(access: access)
            var i = 1
            while i < words.count {
                guard i + 1 < words.count else { return .failure(ValueError("\"\(words[i])\" needs a list after it", chinese: "「\(words[i])」后面要有一个列表")) }
                let list = words[i + 1].split(separator: ",").map(String.init)
                switch words[i] {
                case "in":
                    guard let stages else { return .failure(ValueError("this entity has no stages: \"in\" is not allowed", chinese: "这个实体没有阶段：不能用「in」")) }
                    var set = Set<String>()
                    for item in list {
                        if item.contains("..") {
                            let ends = item.components(separatedBy: "..")
                            guard ends.count == 2, let order = stageOrder,
                                let a = order.firstIndex(of: ends[0]), let b = order.firstIndex(of: ends[1]), a <= b,
                                stages.contains(ends[0]), stages.contains(ends[1])
                            else { return .failure(ValueError("bad stage range \"\(item)\"", chinese: "阶段范围「\(item)」无效")) }
                            set.formUnion(order[a...b])
                        } else {
                            guard stages.contains(item) else { return .failure(ValueError("unknown stage \"\(item)\"", chinese: "没有阶段「\(item)」")) }
                            set.insert(item)
                        }
                    }
                    clause.stages = set
                case "if":
                    for item in list {
                        guard let r = Relation(rawValue: item) else {
                            return .failure(
                                ValueError(
                                    "unknown relation \"\(item)\" (owner, team, creator, managed, member, assignee)",
                                    chinese: "没有关系「\(item)」（可用：owner、team、creator、managed、member、assignee）"
                                ))
                        }
                        clause.relations.insert(r)
                    }
                default:
                    return .failure(ValueError("expected \"in\" or \"if\", found \"\(words[i])\"", chinese: "应是「in」或「if」，这里是「\(words[i])」"))
                }
                i += 2
            }
            clauses.append(clause)
        }
        return .success(AccessRule(clauses: clauses, source: text))
    }
}

extension String {
    func components(separatedBy separator: String) -> [String] {
        var out = [String]()
        var rest = Substring(self)
        while let r = rest.range(of: separator) {
            out.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        out.append(String(rest))
        return out
    }
}

extension Substring {
    func range(of needle: String) -> Range<Index>? {
        let n = Array(needle)
        guard !n.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            var j = i
            var k = 0
            while k < n.count, j < endIndex, self[j] == n[k] {
                j = index(after: j)
                k += 1
            }
            if k == n.count { return i..<j }
            i = index(after: i)
        }
        return nil
    }
}
