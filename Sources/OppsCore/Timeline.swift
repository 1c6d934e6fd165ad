/// A deal's timeline (issue 15; the deal page of `opps web` reads the same): everything that
/// happened to it, by device time — stage moves (the creation's stage first, then the hub's stage
/// log, then a move not yet synced), activities, tasks, approval requests, team changes — from
/// what this replica holds. Conflicts are the laptop's own and are added by the caller.
public struct TimelineEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case stage(from: String?, to: String)
        case activity(kind: String, note: String?, place: String?, flagged: Bool)
        case task(text: String, due: CivilDate?, done: Bool, assignee: UserName?)
        case approval(kind: String, field: String?, value: String?, state: String, decidedBy: UserName?, note: String?)
        case team(user: UserName, role: String, state: String)
        case conflict(number: UInt64, field: String, value: Value, outcome: String, rule: String, winner: Value?)
        case deleted
    }

    /// Device time, milliseconds since the epoch.
    public var at: Int64
    public var by: UserName
    public var kind: Kind
    /// The record the event is (an activity, a task, a request…); the deal itself for stage moves.
    public var record: RecordID

    public init(at: Int64, by: UserName, kind: Kind, record: RecordID) {
        self.at = at
        self.by = by
        self.kind = kind
        self.record = record
    }
}

public enum Timeline {
    /// The events of `deal` from the `related` records this replica holds (any entity; those
    /// that do not point at the deal are ignored), plus `extra` (the laptop's conflicts), oldest
    /// first. Ties keep the order stage, activity, task, approval, team, extra.
    /// `pending`: the deal's stage moves made here and not yet synced, each a step of its own.
    public static func events(
        of deal: Record, related: [Record], workspace: Workspace, extra: [TimelineEvent] = [], pending: [StageStep] = []
    ) -> [TimelineEvent] {
        var out = [TimelineEvent]()
        let sf = workspace.entity(deal.entity)?.stageField ?? "stage"
        for step in Pipeline.stageSteps(of: deal, workspace: workspace, stageField: sf, pending: pending) {
            out.append(TimelineEvent(at: step.at, by: step.by, kind: .stage(from: step.from, to: step.to), record: deal.id))
        }
        func text(_ v: Value) -> String? { v.isNull ? nil : v.canonicalText }
        func user(_ v: Value) -> UserName? { if case let .text(u) = v { u } else { nil } }
        for r in related where !r.isDeleted && r["opportunity"] == .reference(deal.id) {
            let made = r.created.stamp.hlc.milliseconds
            switch r.entity {
            case "activity":
                let at: Int64 = if case let .timestamp(t) = r["at"] { t.milliseconds } else { made }
                out.append(
                    TimelineEvent(
                        at: at, by: r.creator,
                        kind: .activity(
                            kind: text(r["kind"]) ?? "note", note: text(r["note"]), place: text(r["place"]),
                            flagged: !r["clock_skew_s"].isNull), record: r.id))
            case "task":
                let due: CivilDate? = if case let .date(d) = r["due"] { d } else { nil }
                out.append(
                    TimelineEvent(
                        at: made, by: r.creator,
                        kind: .task(
                            text: text(r["text"]) ?? "", due: due, done: r["done"] == .boolean(true),
                            assignee: user(r["assignee"])), record: r.id))
            case workspace.approvals?.requests ?? "approval":
                let state: String = if case let .member(s) = r["state"] { s } else { "pending" }
                out.append(
                    TimelineEvent(
                        at: made, by: r.creator,
                        kind: .approval(
                            kind: text(r["kind"]) ?? "change", field: text(r["field"]), value: text(r["value"]),
                            state: state, decidedBy: user(r["decided_by"]), note: text(r["note"])), record: r.id))
            case "membership":
                guard let u = user(r["user"]) else { continue }
                let at = r.fields["state"]?.stamp.hlc.milliseconds ?? made
                out.append(
                    TimelineEvent(
                        at: max(at, made), by: r.fields["state"]?.author ?? r.creator,
                        kind: .team(user: u, role: text(r["role"]) ?? "", state: text(r["state"]) ?? "requested"), record: r.id))
            default:
                continue
            }
        }
        if let d = deal.deleted { out.append(TimelineEvent(at: d.stamp.hlc.milliseconds, by: d.author, kind: .deleted, record: deal.id)) }
        out += extra
        // A stable sort: equal times keep the order they were added in.
        return out.enumerated().sorted { a, b in a.element.at != b.element.at ? a.element.at < b.element.at : a.offset < b.offset }.map(\.element)
    }
}
