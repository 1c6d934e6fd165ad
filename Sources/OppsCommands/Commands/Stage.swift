import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct StageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage", abstract: "Move a deal to another stage (gates and ownership rules apply, offline too).",
        discussion: "Example: opps stage 7dka36sd solution; opps stage 7dka36sd next; opps stage 7dka36sd lost --reason price")

    @Argument(help: "The record: its short id as opps list prints it (4+ characters do), a full id, or an exact name.")
    var id: String

    @Argument(help: "The stage (its name or label), or next for the one after the deal's.")
    var stage: String

    @Option(help: "Why: the hand-off rejection reason when moving a lead back, or the loss reason when moving to lost.")
    var reason: String?

    @OptionGroup var home: HomeOption

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    func run() throws {
        let r = try home.open()
        let words = home.words(r)
        // The stage is read first (a wrong one is said before the record is looked for), unless it
        // is "next", which is the record's.
        let named = Self.next.contains(self.stage.lookupFolded) ? nil : try stageNamed(self.stage, r, words)
        let recordID = try r.resolveID(id, among: r.workspace.entities.filter { $0.stageField != nil }.map(\.name))
        let stage = try named ?? nextStage(of: recordID, r, words)
        try report(try r.moveStage(recordID, to: stage, reason: reason), json: json, r, words: words)
    }
}

extension StageCommand {
    /// What a rep types for "on to the next stage", in either language.
    static let next: Set<String> = ["next", "下一阶段", "下个阶段", "下一个阶段"]

    /// The open stage after the deal's; one clear line when there is none (a closed deal, the
    /// last open stage, whose next is won or lost: named, not guessed).
    func nextStage(of id: RecordID, _ r: Replica, _ words: Vocabulary) throws -> String {
        let ws = r.workspace
        guard let record = try r.record(id), let sf = ws.entity(record.entity)?.stageField, case let .member(current) = record[sf] else {
            throw ReplicaError.invalid("this record has no stage", chinese: "这条记录没有阶段")
        }
        // The same "next" the deal's page and opps new name (Workspace.nextGate).
        if let next = ws.nextGate(of: record)?.next { return next.name }
        let closing = ws.stages.filter(\.closed).map { words.stage($0.name) }
        throw ReplicaError.invalid(
            "\(words.stage(current)) has no next open stage: name the one meant (\(closing.joined(separator: ", ")))",
            chinese: "「\(words.stage(current))」之后没有未结束的阶段：请写明要去的阶段（\(closing.joined(separator: "、"))）")
    }
}

extension StageCommand: HintsAfterError {
    /// A gate that is not met: the `opps set` that fills it in, each field by the reader's word
    /// with an example of what it takes, then this move again.
    func hint(for error: ReplicaError, words: Vocabulary) -> String? {
        // A closed deal's stage is read-only to a rep (the rule's detail names the stage it is in):
        // who can move it.
        if case let .refused(_, field, .readOnly, detail, _) = error, let e = words.workspace.entity("opportunity"), field == e.stageField,
            let closed = words.workspace.stages.first(where: { $0.closed && detail.hasSuffix(" in \($0.name)") })
        {
            let managers = words.workspace.overrideRoles.sorted().map { words.role($0) }.joined(separator: words.say(", ", "、"))
            return words.say(
                "a deal in \(words.stage(closed.name)) is closed: only a \(managers) moves it again (ask yours)",
                "「\(words.stage(closed.name))」的商机已结束：只有\(managers)能再移动它（请找你的经理）")
        }
        let staged = words.workspace.entities.filter { $0.stageField != nil }.map(\.name)
        return stageGateHint(error, id: typedBack(try? home.open(), id, among: staged), stage: stage, words: words)
    }
}

/// A stage gate that is not met (`stage-gate`), after `opps stage ID STAGE` or `opps set ID
/// 阶段=STAGE`: the `opps set` that fills it in, each field by the reader's word with an example of
/// what it takes, then the move again, each on a line of its own. Nil for any other error. `id`:
/// the record as the lines name it (`typedBack`: its short id).
func stageGateHint(_ error: ReplicaError, id: String, stage: String, words: Vocabulary) -> String? {
    guard case let .refused(entity, _, .stageGate, _, missing) = error, !missing.isEmpty,
        let e = words.workspace.entity(entity)
    else { return nil }
    let say = words.say
    // A loss reason is given with the move itself (--reason), as moveStage takes it.
    let target = words.workspace.stage(input: stage)
    let byReason = target?.fromAnyOpen == true && missing.contains("loss_reason")
    var reasonExample = "…"
    if case let .enumeration(members)? = e.field("loss_reason")?.type, let first = members.first {
        reasonExample = words.member(entity, "loss_reason", first)
    }
    let pairs = gatePairs(e, missing.filter { !(byReason && $0 == "loss_reason") }, words: words)
    let again = "opps stage \(id) \(CommandSuggestion.word(stage))" + (byReason ? " --reason \(CommandSuggestion.word(reasonExample))" : "")
    guard !pairs.isEmpty else { return say("say why: \(again)", "写明原因：\(again)") }
    let set = "opps set \(id) " + pairs.joined(separator: " ")
    // Each command on a line of its own, as it is typed (or copied) back.
    return say("fill them in first, then move it again:", "先补上这些字段，再移动一次：") + "\n  \(set)\n  \(again)"
}

/// A stage typed by a user: its name or any label (any case); one clear line naming the stages
/// in the reader's words otherwise.
func stageNamed(_ text: String, _ r: Replica, _ words: Vocabulary) throws -> String {
    if let s = r.workspace.stage(input: text) { return s.name }
    let stages = r.workspace.stages.map { words.stage($0.name) }
    throw ReplicaError.invalid(
        words.say("unknown stage \"\(text)\" (\(stages.joined(separator: ", ")))", "没有阶段「\(text)」（阶段：\(stages.joined(separator: "、"))）"))
}

/// `to move on to solution, fill in: opps set ID needs=… amount=120000.00` for the fields the
/// deal's stage needs before the next (Resolver's gate, a hand-off's checklist with it), or
/// `next: opps stage ID solution` when it has them. What a new deal or lead says last.
func nextGate(_ deal: Record, code: String, words: Vocabulary) -> String? {
    guard let e = words.workspace.entity(deal.entity), let (next, missing) = words.workspace.nextGate(of: deal) else { return nil }
    return words.say.beforeStage(words.stage(next.name), code: code, pairs: gatePairs(e, missing, words: words))
}

/// `FIELD=EXAMPLE` for each field a stage's gate still needs, as a rep types them into opps set:
/// a date as YYYY-MM-DD, an amount as 120000.00, a percentage as 50%, a choice as its first
/// member in the reader's words.
func gatePairs(_ e: Entity, _ missing: [String], words: Vocabulary) -> [String] {
    let say = words.say
    return missing.map { name -> String in
        let field = e.field(name)
        let example: String =
            switch field?.type {
            case .date: "YYYY-MM-DD"
            case .timestamp: "YYYY-MM-DD HH:MM"
            case .boolean: say("yes", "是")
            case .decimal: field?.unit == .percent ? "10%" : "120000.00"
            case .integer: field?.unit == .percent ? "50%" : "1"
            case let .enumeration(members)?: members.first.map { words.member(e.name, name, $0) } ?? "…"
            case .user: say("NAME", "用户名")
            case .reference: say("NAME", "名称")
            default: "…"
            }
        return "\(words.field(e.name, name))=\(example)"
    }
}
