import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica

/// `opps rules`: who may write what, at which stage — the ownership matrix the laptop and
/// the hub both enforce.
public struct RulesCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Show the ownership matrix: what a role may do with each field at a stage.",
        discussion: """
            Access levels: own (wins conflicts on the field), write (may write, loses to the \
            owner), propose (stored as a proposal the owner or a manager decides), read, hidden. \
            override is a manager's override. Rules marked "if owner" apply when you own the \
            record ("if team": when you are on its team). Reads this laptop's workspace (as the hub \
            last sent it), else the built-in default. Roles, stages and entities by name or label.

            Without --stage: discovery, or the first stage where the role sees any of the entity's \
            fields (a success manager's is won).

            Example: opps rules (your own role), opps rules --role expert --stage solution
            """
    )

    @Option(help: "The role (marketing, sales, expert, success, manager); default: yours, as this laptop's replica holds it.")
    var role: String?

    @Option(
        help:
            "The pipeline stage (lead, qualified, discovery, solution, proposal, negotiation, won, lost); default: discovery, or the first stage where the role sees any field."
    )
    var stage: String?

    @Option(
        help:
            "Relations you hold to the record: owner, team, creator, managed, member (your own team membership), assignee (the record is assigned to you) (comma-separated); default: all of them."
    )
    var relations: String?

    @Option(help: "The entity.")
    var entity: String = "opportunity"

    @Flag(help: "Print one JSON object mapping each field to its access.")
    var json = false

    @OptionGroup var home: HomeOption

    public init() {}

    public func validate() throws {
        // Without --role, the replica's own; without a replica there is none to take (exit 64).
        if role == nil, !FileManager.default.fileExists(atPath: Replica.databasePath(home: home.path)) {
            throw Self.whoseRules(.default, words: Vocabulary(.default, locale: Workspace.default.displayLocale(preferring: [home.locale, HomeOption.posixLocale])))
        }
        for r in parsedRelations.rejected {
            throw ValidationError(
                home.say(
                    "unknown relation \"\(r)\" (owner, team, creator, managed, member, assignee)",
                    "没有关系「\(r)」（owner 负责人、team 团队、creator 创建者、managed 下属的、member 本人的成员记录、assignee 指派给你的记录）"))
        }
    }

    /// Role, stage and entity as typed (a name or a label) → names in `ws`, one clear line otherwise.
    /// The command with its role, stage and entity as the workspace names them. A name it does not
    /// know is refused with the ones it does: by name in English, by label in Chinese (what a
    /// Chinese reader types).
    func resolved(in ws: Workspace, words: Vocabulary? = nil) throws -> RulesCommand {
        var out = self
        let say = words?.say ?? Phrases(chinese: false)
        func unknown(_ en: String, _ zh: String, _ typed: String, _ names: [String], _ label: (String) -> String) -> ValidationError {
            ValidationError(
                say(
                    "unknown \(en) \"\(typed)\" (\(names.joined(separator: ", ")))",
                    "没有\(zh)「\(typed)」（\(zh)：\(names.map(label).joined(separator: "、"))）"))
        }
        let w = words ?? Vocabulary(ws, locale: nil)
        guard let role else { throw Self.whoseRules(ws, words: w) }
        guard let r = ws.role(input: role) else { throw unknown("role", "角色", role, ws.roles.map(\.name), w.role) }
        if let stage {
            guard let s = ws.stage(input: stage) else { throw unknown("stage", "阶段", stage, ws.stages.map(\.name), w.stage) }
            out.stage = s.name
        }
        guard let e = ws.entity(entity) ?? ws.entities.first(where: { Workspace.matches(entity, $0.labels) }) else {
            throw unknown("entity", "记录类型", entity, ws.entities.map(\.name), w.entity)
        }
        out.role = r.name
        out.entity = e.name
        // Without --relations, every relation that can hold on a record of the entity: `member`
        // only on a membership, `assignee` only where the entity names one (the heading names
        // what was assumed).
        if relations == nil {
            out.relations = Relation.allCases.filter {
                switch $0 {
                case .member: e.name == ws.teamRule?.entity
                case .assignee: e.assignedTo != nil
                default: true
                }
            }.map(\.rawValue).joined(separator: ",")
        }
        if stage == nil { out.stage = out.visibleStages(in: ws).first ?? "discovery" }
        return out
    }

    /// The stages at which this role sees any field of the entity: discovery first (where a
    /// deal's work is), then the pipeline's order. A success manager sees nothing before won, so
    /// `opps rules` shows them won, not a table of hidden fields.
    func visibleStages(in ws: Workspace) -> [String] {
        let names = ws.stages.map(\.name)
        return (names.filter { $0 == "discovery" } + names.filter { $0 != "discovery" }).filter { name in
            var at = self
            at.stage = name
            return at.table(workspace: ws).contains { $0.access != .hidden }
        }
    }

    static func whoseRules(_ ws: Workspace, words w: Vocabulary) -> ValidationError {
        ValidationError(
            w.say(
                "say whose rules: --role (\(ws.roles.map(\.name).joined(separator: ", "))); once opps init has made a replica here, yours",
                "请用 --role 指定角色（\(ws.roles.map { w.role($0.name) }.joined(separator: "、"))）；opps init 建立本机副本后，默认是你自己的"))
    }

    var parsedRelations: (set: Set<Relation>, rejected: [String]) {
        var set = Set<Relation>(), rejected = [String]()
        for part in (relations ?? Relation.allCases.map(\.rawValue).joined(separator: ",")).split(separator: ",") where !part.isEmpty {
            if let r = Relation(rawValue: String(part)) { set.insert(r) } else { rejected.append(String(part)) }
        }
        return (set, rejected)
    }

    /// The access to every field of the entity, in workspace order.
    public func table(workspace ws: Workspace = .default) -> [(field: String, group: String, access: Access)] {
        guard let e = ws.entity(entity) else { return [] }
        var record = Record(
            id: RecordID(high: 0, low: 0), entity: entity,
            created: FieldState(value: .null, stamp: Stamp(hlc: .zero, replica: ReplicaID(UUID128(high: 0, low: 0))), author: "", authority: .own))
        if let sf = e.stageField { record.fields[sf] = FieldState(value: .member(stage ?? "discovery"), stamp: record.created.stamp, author: "", authority: .own) }
        let actor = Actor(user: "you", role: role ?? "")
        return e.fields.map { f in
            (f.name, f.group, ws.permission(actor: actor, relations: parsedRelations.set, record: record, entity: entity, field: f.name))
        }
    }

    public func run() throws {
        // This laptop's own workspace when there is a replica; the built-in default otherwise.
        let replica = FileManager.default.fileExists(atPath: Replica.databasePath(home: home.path)) ? try home.open() : nil
        let ws = replica?.workspace ?? .default
        let words = replica.map { home.words($0) } ?? Vocabulary(ws, locale: ws.displayLocale(preferring: [home.locale]))
        var asked = self
        asked.role = role ?? replica?.role
        let rules = try asked.resolved(in: ws, words: words)
        let rows = rules.table(workspace: ws)
        if json {
            Console.out(JSON.object(rows.map { ($0.field, .string($0.access.name)) }).prettyText)
            return
        }
        let names = rows.map { words.field(rules.entity, $0.field) }
        let say = words.say
        let width = max(say("field", "字段").displayWidth, names.map(\.displayWidth).max() ?? 0)
        // The relations as given, in the order Relation lists them.
        let held = Relation.allCases.filter(rules.parsedRelations.set.contains)
        let heading = say.rulesHeading(
            entity: words.entity(rules.entity), role: words.role(rules.role ?? ""), stage: words.stage(rules.stage ?? ""), relations: held,
            version: replica?.workspace.version)
        Console.out(heading.wrapped(width: Console.width).joined(separator: "\n"))
        let accessWidth = max(8, rows.map { say.access($0.access).displayWidth }.max() ?? 8)
        Console.out(say.header([("field", "字段", width + 1, false), ("access", "权限", accessWidth + 1, false), ("group", "字段组", 0, false)]))
        for (name, r) in zip(names, rows) {
            Console.out(name.padding(width) + "  " + say.access(r.access).padding(accessWidth) + "  " + words.group(rules.entity, r.group))
        }
        // The bounds of the numbers shown (workspace-format.md min/max): what `opps set` refuses.
        let bounded = zip(names, rows).compactMap { name, r -> String? in
            guard r.access != .hidden, let bounds = ws.entity(rules.entity)?.field(r.field)?.boundsText else { return nil }
            return "\(name) \(bounds)"
        }
        if !bounded.isEmpty {
            Console.out((say("Values within: ", "取值范围：") + bounded.joined(separator: say("; ", "；"))).wrapped(width: Console.width).joined(separator: "\n"))
        }
        // Fields set once (workspace-format.md `write_once`; the one a record hangs off its deal
        // by): their access says who may set them, not that they may be changed.
        let once = zip(names, rows).compactMap { name, r -> String? in
            r.access >= .propose && ws.entity(rules.entity)?.field(r.field)?.writeOnce == true ? name : nil
        }
        if !once.isEmpty {
            Console.out(
                (say("Set once, then never changed (a change is a new \(words.entity(rules.entity))): ", "只能设置一次，之后不能修改（要改就新建一条\(words.entity(rules.entity))）：")
                    + once.joined(separator: say(", ", "、"))).wrapped(width: Console.width).joined(separator: "\n"))
        }
        // Nothing visible at this stage: where something is, with the command that shows it.
        if rows.allSatisfy({ $0.access == .hidden }) {
            let seen = rules.visibleStages(in: ws)
            if let first = seen.first {
                Console.out(
                    say.hiddenAtThisStage(
                        role: words.role(rules.role ?? ""), entity: words.entity(rules.entity), stages: seen.map(words.stage),
                        command: "opps rules --stage \(words.stage(first))"))
            }
        }
    }
}
