/// Pipeline reports (DOMAIN.md "What the team measures"), computed from what a replica holds:
/// deals, their stage history (`StageLog`, kept by the hub on each deal with the device time of
/// each move) and activities. Pure: the same records give the same figures anywhere.
///
/// Times are device times (hybrid logical clock milliseconds of the write that moved the
/// stage; an activity's `at`), so offline work counts when it was done, not when it synced.

extension JSON {
    /// A JSON number from its exact decimal text (`"3.50"`), never through floating point.
    public static func decimal(_ text: String) -> JSON { JSON(.number(text)) }
}

/// Which deals a report counts.
public struct PipelineFilter: Sendable, Hashable {
    /// Only deals this user owns.
    public var owner: UserName?
    /// Only deals this user is an active team member of.
    public var member: UserName?
    /// The period, inclusive, in days of the reader's clock (`offsetSeconds` east of UTC): what
    /// falls in it depends on the report (see each).
    public var from: CivilDate?
    public var to: CivilDate?

    public init(owner: UserName? = nil, member: UserName? = nil, from: CivilDate? = nil, to: CivilDate? = nil) {
        self.owner = owner
        self.member = member
        self.from = from
        self.to = to
    }

    /// The reader's clock: which day an instant falls on.
    public var offsetSeconds = 0

    public func contains(milliseconds: Int64) -> Bool {
        let day = Timestamp(milliseconds: milliseconds).date(offsetSeconds: offsetSeconds)
        if let from, day < from { return false }
        if let to, to < day { return false }
        return true
    }
}

/// One stage change of a deal.
public struct StageStep: Sendable, Hashable {
    public var from: String?
    public var to: String
    public var at: Int64
    public var by: UserName

    /// `from`: the stage before, nil where the reader works it out (a line of the log, a move
    /// made here and not yet synced).
    public init(from: String? = nil, to: String, at: Int64, by: UserName) {
        self.from = from
        self.to = to
        self.at = at
        self.by = by
    }
}

extension Workspace {
    /// The entity the reports call a deal: the first with stages (`opportunity` in the default
    /// workspace).
    public var dealEntity: Entity? { entities.first { $0.stageField != nil } }
}

/// The stage history the hub keeps on each deal (the workspace's `stage_history` field): one
/// line per stage change after the creation (which its own stamp and value record),
/// `MILLISECONDS STAGE USER` — the device time of the write that moved it, the stage entered,
/// who — oldest first, joined by line feeds (merge-semantics.md §7.1).
/// One field on the deal, not a record per change: a record per change doubled the records a
/// cold sync moves (BENCHMARKS.md).
public enum StageLog {
    public static func line(at milliseconds: Int64, stage: String, by user: UserName) -> String { "\(milliseconds) \(stage) \(user)" }

    /// The value after appending a change to `current`.
    public static func appending(_ current: Value, at milliseconds: Int64, stage: String, by user: UserName) -> Value {
        let entry = line(at: milliseconds, stage: stage, by: user)
        if case let .text(t) = current, !t.isEmpty { return .text(t + "\n" + entry) }
        return .text(entry)
    }

    /// The log as a reader who may not learn names receives it (visibility.md §6): each line's
    /// user empty — `MILLISECONDS STAGE ` — unless it is the reader or the hub.
    public static func withholdingNames(_ value: Value, from reader: UserName) -> Value {
        guard case let .text(t) = value else { return value }
        var out = "", changed = false
        out.reserveCapacity(t.utf8.count)
        for (i, line) in t.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if i > 0 { out += "\n" }
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count == 3, Workspace.shown(String(parts[2]), to: reader) != parts[2] {
                out += parts[0] + " " + parts[1] + " "
                changed = true
            } else {
                out += line
            }
        }
        return changed ? .text(out) : value
    }

    /// Why a stage log from outside (an imported file) cannot be kept, or nil: every line must
    /// be `MILLISECONDS STAGE USER` with a stage of `stages`, in time order, within years 1–9999.
    /// The user may be withheld (`MILLISECONDS STAGE `, as a marketer's `opps export` writes the
    /// lines of moves she may not learn the author of): kept so, as one who is not known.
    public static func problem(_ text: String, stages: Set<String>) -> String? {
        var last = Int64.min
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let ms = Int64(parts[0]), Timestamp.range.contains(ms) else {
                return "line \(i + 1) is not MILLISECONDS STAGE USER: \"\(line.prefix(60))\""
            }
            guard stages.contains(String(parts[1])) else { return "line \(i + 1) names no stage \"\(parts[1])\"" }
            guard ms >= last else { return "line \(i + 1) is earlier than the line before it" }
            last = ms
        }
        return nil
    }

    /// The steps of a log, in order; lines that do not parse are skipped.
    public static func steps(_ value: Value) -> [StageStep] {
        guard case let .text(t) = value else { return [] }
        var out = [StageStep]()
        for line in t.split(separator: "\n") {
            // A line whose user is withheld ends in the space before it (visibility.md §6).
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let ms = Int64(parts[0]) else { continue }
            out.append(StageStep(from: out.last?.to, to: String(parts[1]), at: ms, by: String(parts[2])))
        }
        return out
    }
}

/// Everything the reports read, gathered once.
public struct Pipeline: Sendable {
    public let workspace: Workspace
    public let deals: [Record]
    /// Stage changes per deal, in time order.
    public let history: [RecordID: [StageStep]]
    /// Activity times per deal, ascending.
    public let activities: [RecordID: [Int64]]
    /// Active team members per deal.
    public let teams: [RecordID: Set<UserName>]
    /// The reader's clock (seconds east of UTC): which day a follow-up falls on.
    public var offsetSeconds = 0

    /// - Parameters:
    ///   - records: the deals, activities and memberships the replica holds.
    public init(workspace: Workspace, records: some Sequence<Record>) {
        var builder = Builder(workspace: workspace)
        for r in records { builder.add(r) }
        self = builder.pipeline()
    }

    /// Gathers a pipeline one record at a time, keeping of an activity or a membership only
    /// what the reports read (its deal and time, its deal and user): a manager's laptop holds
    /// hundreds of thousands of activities, which a list of records would hold whole.
    public struct Builder {
        let workspace: Workspace
        let dealEntity: String?
        var deals = [Record]()
        var activities = [RecordID: [Int64]]()
        var teams = [RecordID: Set<UserName>]()

        public init(workspace: Workspace) {
            self.workspace = workspace
            dealEntity = workspace.dealEntity?.name
        }

        /// A deal, activity or membership the replica holds (any other record is passed over).
        public mutating func add(_ r: Record) {
            guard !r.isDeleted else { return }
            if r.entity == dealEntity { deals.append(r); return }
            if let m = workspace.teamRule?.member(r) { teams[m.of, default: []].insert(m.user); return }
            guard r.entity == Self.activity, case let .reference(deal) = r[Self.activityDeal] else { return }
            addActivity(on: deal, at: r[Self.activityTime], created: r.created.stamp.hlc.milliseconds)
        }

        /// The entity a follow-up is, the field naming its deal, the one saying when it happened.
        public static let activity = "activity", activityDeal = "opportunity", activityTime = "at"

        /// An activity on `deal`, read without its record: when it happened (`at`), else when
        /// it was made (`created`, device time).
        public mutating func addActivity(on deal: RecordID, at: Value?, created: Int64) {
            let time: Int64 = if case let .timestamp(t)? = at { t.milliseconds } else { created }
            activities[deal, default: []].append(time)
        }

        /// Stage moves made here and not yet synced, by deal (`addPendingMove`).
        var pending = [RecordID: [StageStep]]()

        /// A stage move of `deal` made here and not yet synced, in the order made (its `from` is
        /// worked out): a step of its own in the deal's history (the stage field holds only the last).
        public mutating func addPendingMove(_ move: StageStep, on deal: RecordID) { pending[deal, default: []].append(move) }

        public func pipeline() -> Pipeline { Pipeline(workspace: workspace, deals: deals, activities: activities, teams: teams, pending: pending) }
    }

    init(
        workspace: Workspace, deals: [Record], activities acts: [RecordID: [Int64]], teams: [RecordID: Set<UserName>],
        pending: [RecordID: [StageStep]] = [:]
    ) {
        self.workspace = workspace
        let sf = workspace.dealEntity?.stageField ?? "stage"
        var history = [RecordID: [StageStep]]()
        for d in deals { history[d.id] = Self.stageSteps(of: d, workspace: workspace, stageField: sf, pending: pending[d.id] ?? []) }
        // By id, moving each record once (sorting the records themselves moves them at every step).
        self.deals = deals.indices.sorted { deals[$0].id < deals[$1].id }.map { deals[$0] }
        self.history = history
        self.activities = acts.mapValues { $0.sorted() }
        self.teams = teams
    }

    /// This pipeline with the entry of deal `id` made again: `deal` as it is now (nil: gone, or
    /// not a deal), its activities' times and its active team — what an edit of that deal alone
    /// can change. The web app patches its kept pipeline with it after an action on one deal,
    /// instead of reading every deal again; the same as a pipeline built afresh
    /// (`PipelinePatchTests`).
    public func replacing(_ id: RecordID, with deal: Record?, activities times: [Int64], team: Set<UserName>, pending: [StageStep] = []) -> Pipeline {
        var deals = self.deals, history = self.history, activities = self.activities, teams = self.teams
        let low = index(of: id)
        let held = low < deals.count && deals[low].id == id
        if let deal, !deal.isDeleted {
            if held { deals[low] = deal } else { deals.insert(deal, at: low) }
            history[id] = Self.stageSteps(of: deal, workspace: workspace, stageField: workspace.dealEntity?.stageField ?? "stage", pending: pending)
        } else {
            if held { deals.remove(at: low) }
            history[id] = nil
        }
        // Kept by their deal's id as a full build keeps them, whether the deal is here or not
        // (then read by nothing).
        activities[id] = times.isEmpty ? nil : times.sorted()
        teams[id] = team.isEmpty ? nil : team
        var p = Pipeline(workspace: workspace, sortedDeals: deals, history: history, activities: activities, teams: teams)
        p.offsetSeconds = offsetSeconds
        return p
    }

    /// The deal `id`, when this pipeline holds it.
    public func deal(_ id: RecordID) -> Record? {
        let i = index(of: id)
        return i < deals.count && deals[i].id == id ? deals[i] : nil
    }

    /// Where `id` is or would go among the deals, which are kept by id.
    func index(of id: RecordID) -> Int {
        var low = 0, high = deals.count
        while low < high {
            let mid = (low + high) / 2
            if deals[mid].id < id { low = mid + 1 } else { high = mid }
        }
        return low
    }

    init(workspace: Workspace, sortedDeals: [Record], history: [RecordID: [StageStep]], activities: [RecordID: [Int64]], teams: [RecordID: Set<UserName>]) {
        self.workspace = workspace
        deals = sortedDeals
        self.history = history
        self.activities = activities
        self.teams = teams
    }

    /// A deal's stage steps, oldest first: its creation's stage, each line of the hub's stage
    /// log, then each move made here and not yet synced (`pending`, in the order made; the deal
    /// holds only the last of them), else — when the stage field names a stage the log does not
    /// end with — one step to it at the field's own stamp. A step never goes back in time.
    public static func stageSteps(of d: Record, workspace: Workspace, stageField sf: String, pending: [StageStep] = []) -> [StageStep] {
        // The creation is the first step (its stamp and value: the device time and the
        // initial stage); the stage log holds every later change.
        var list = [StageStep]()
        if case let .member(first) = d.created.value { list.append(StageStep(from: nil, to: first, at: d.created.stamp.hlc.milliseconds, by: d.creator)) }
        for step in workspace.stageHistory.map({ StageLog.steps(d[$0]) }) ?? [] {
            list.append(StageStep(from: list.last?.to, to: step.to, at: step.at, by: step.by))
        }
        for move in pending where move.to != list.last?.to {
            list.append(StageStep(from: list.last?.to, to: move.to, at: max(move.at, list.last?.at ?? move.at), by: move.by))
        }
        // A move made here and not yet synced is not in the hub's log yet: the stage field's
        // own stamp says when it was made. A deal with no history at all entered its stage
        // when it was created.
        if case let .member(stage) = d[sf], list.last?.to != stage {
            let at = d.fields[sf]?.stamp.hlc.milliseconds ?? d.created.stamp.hlc.milliseconds
            list.append(StageStep(from: list.last?.to, to: stage, at: max(at, list.last?.at ?? at), by: d.fields[sf]?.author ?? d.creator))
        }
        return list
    }

    public func stage(of deal: Record) -> String? {
        guard let sf = workspace.dealEntity?.stageField, case let .member(s) = deal[sf] else { return nil }
        return s
    }

    /// Deals passing the owner and team filters (the period is the report's business).
    public func deals(_ filter: PipelineFilter) -> [Record] {
        deals.filter { d in
            if let o = filter.owner, d.owner != o { return false }
            if let m = filter.member, !(teams[d.id]?.contains(m) ?? false) { return false }
            return true
        }
    }

    /// The day of the deal's last follow-up: its newest activity by device time, else the day it
    /// was created.
    public func lastFollowUp(_ deal: Record) -> CivilDate {
        let created = deal.created.stamp.hlc.milliseconds
        return Timestamp(milliseconds: Swift.max(created, activities[deal.id]?.last ?? created)).date(offsetSeconds: offsetSeconds)
    }

    /// An open deal with no follow-up for more than the workspace's `stale_days` before `today`.
    public func isStale(_ deal: Record, today: CivilDate) -> Bool {
        if let s = stage(of: deal), workspace.stage(s)?.closed == true { return false }
        return today.daysSinceEpoch - lastFollowUp(deal).daysSinceEpoch > Int32(workspace.staleDays)
    }

    /// When the deal entered the pipeline (device time of its creation).
    public func created(_ deal: Record) -> Int64 { history[deal.id]?.first?.at ?? deal.created.stamp.hlc.milliseconds }

    /// Whether the deal passed through open stage `i`: it entered the pipeline at or before `i`
    /// and got at least as far (a won deal reached every open stage from where it entered).
    func reached(_ deal: Record, _ i: Int) -> Bool {
        guard let entry = history[deal.id]?.first.flatMap({ workspace.stageIndex($0.to) }), entry <= i,
            let furthest = furthestOpen(deal)
        else { return false }
        return i <= furthest
    }

    /// Index of the furthest open stage the deal reached (a won deal reached them all).
    func furthestOpen(_ deal: Record) -> Int? {
        let open = workspace.stages.enumerated().filter { !$0.element.closed }.map(\.offset)
        if let s = stage(of: deal), workspace.stage(s)?.closed == true, !(workspace.stage(s)?.fromAnyOpen ?? false) { return open.last }
        return (history[deal.id] ?? []).compactMap { step in workspace.stageIndex(step.to).flatMap { workspace.stages[$0].closed ? nil : $0 } }.max()
    }
}

// MARK: - Money

/// Amounts totalled per currency, never across currencies.
public struct CurrencyTotals: Sendable, Hashable {
    public private(set) var totals: [String: ExactDecimal] = [:]
    /// Currencies whose total no longer fits 18 digits: shown as such, never wrapped.
    public private(set) var overflowed: Set<String> = []

    public init() {}

    /// The key of the amounts whose deal names no currency.
    public static let noCurrency = "?"

    public mutating func add(_ amount: Value, currency: Value) {
        guard case let .decimal(a) = amount else { return }
        let code: String = if case let .member(c) = currency { c } else { Self.noCurrency }
        guard !overflowed.contains(code) else { return }
        guard let current = totals[code] else { totals[code] = a; return }
        let scale = max(a.scale, current.scale)
        guard let x = current.rescaled(to: scale), let y = a.rescaled(to: scale) else { overflowed.insert(code); return }
        let (sum, overflow) = x.units.addingReportingOverflow(y.units)
        guard !overflow, sum.magnitude <= UInt64(ExactDecimal.maxUnits) else { overflowed.insert(code); return }
        totals[code] = ExactDecimal(units: sum, scale: scale)
    }

    /// The currencies in name order, the amounts without one last: they are the exception a
    /// reader is to fix, not a currency of their own.
    public var codes: [String] { totals.keys.sorted { ($0 == Self.noCurrency ? 1 : 0, $0) < ($1 == Self.noCurrency ? 1 : 0, $1) } }

    public func text(_ code: String) -> String { overflowed.contains(code) ? "(beyond 18 digits)" : totals[code]!.description }

    /// `CNY 120000.00, USD 5000.00`, currencies in name order.
    public var description: String { totals.keys.sorted().map { "\($0) \(text($0))" }.joined(separator: ", ") }
    public var json: JSON { .object(totals.keys.sorted().map { ($0, JSON.string(text($0))) }) }
}

// MARK: - Durations

/// A duration in days, exact to the hundredth (half up), from milliseconds.
public func daysText(_ milliseconds: Int64) -> String { hundredths(milliseconds, unit: 86_400_000) }
/// A duration in hours, exact to the hundredth (half up), from milliseconds.
public func hoursText(_ milliseconds: Int64) -> String { hundredths(milliseconds, unit: 3_600_000) }

func hundredths(_ ms: Int64, unit: Int64) -> String {
    let negative = ms < 0
    let h = (abs(ms) * 100 + unit / 2) / unit
    return (negative ? "-" : "") + "\(h / 100).\(h % 100 < 10 ? "0" : "")\(h % 100)"
}

/// Average and median of durations (milliseconds); nil for none.
public struct DurationStats: Sendable, Hashable {
    public var count: Int
    public var average: Int64
    public var median: Int64

    public init?(_ values: [Int64]) {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        count = s.count
        average = s.reduce(0, +) / Int64(s.count)
        median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

// MARK: - The reports

extension Pipeline {
    /// The board: per stage, the deals in it now (created in the period), with the overdue mark
    /// for a next step due before `today` on an open deal.
    public struct BoardDeal: Sendable {
        public var deal: Record
        public var overdue: Bool
    }

    public func board(_ filter: PipelineFilter, today: CivilDate, includeClosed: Bool) -> [(stage: Stage, deals: [BoardDeal], totals: CurrencyTotals)] {
        // One pass puts each deal in its stage (a manager's laptop holds tens of thousands).
        var byStage = [String: [Record]]()
        for d in deals(filter) where filter.contains(milliseconds: created(d)) {
            if let s = stage(of: d) { byStage[s, default: []].append(d) }
        }
        return workspace.stages.filter { includeClosed || !$0.closed }.map { stage in
            var totals = CurrencyTotals()
            let items = (byStage[stage.name] ?? []).map { d -> BoardDeal in
                totals.add(d["amount"], currency: d["currency"])
                var overdue = false
                if !stage.closed, case let .date(due) = d["next_step_due"], due < today { overdue = true }
                return BoardDeal(deal: d, overdue: overdue)
            }
            // By name, then id: each name read once, not at every comparison.
            let names = items.map { $0.deal["name"].canonicalText }
            let order = items.indices.sorted { (names[$0], items[$0].deal.id) < (names[$1], items[$1].deal.id) }
            return (stage, order.map { items[$0] }, totals)
        }
    }

    /// The funnel over the deals created in the period: per stage, deals in it now and their
    /// amounts per currency, deals that passed through it (entered the pipeline at or before it
    /// and got at least this far), and the conversion from the previous open stage: of the
    /// deals that passed through that one, the share that went on to this one. Won is reached
    /// from the last open stage; the win rate is won ÷ (won + lost).
    public struct FunnelRow: Sendable {
        public var stage: String
        public var current: Int
        public var amounts: CurrencyTotals
        public var reached: Int
        /// (went on to this stage, passed through the previous one).
        public var conversion: (Int, Int)?
    }

    public func funnel(_ filter: PipelineFilter) -> (rows: [FunnelRow], won: Int, lost: Int) {
        let chosen = deals(filter).filter { filter.contains(milliseconds: created($0)) }
        var rows = [FunnelRow]()
        var previous: Int?
        var won = 0, lost = 0
        for (i, stage) in workspace.stages.enumerated() {
            var amounts = CurrencyTotals()
            let now = chosen.filter { self.stage(of: $0) == stage.name }
            for d in now { amounts.add(d["amount"], currency: d["currency"]) }
            let reached: Int
            var conversion: (Int, Int)?
            if stage.closed {
                reached = now.count
                if stage.fromAnyOpen { lost += now.count } else { won += now.count }
                if !stage.fromAnyOpen, let p = previous {
                    conversion = (now.filter { self.reached($0, p) }.count, chosen.filter { self.reached($0, p) }.count)
                }
            } else {
                reached = chosen.filter { self.reached($0, i) }.count
                if let p = previous {
                    let before = chosen.filter { self.reached($0, p) }
                    conversion = (before.filter { self.reached($0, i) }.count, before.count)
                }
                previous = i
            }
            rows.append(FunnelRow(stage: stage.name, current: now.count, amounts: amounts, reached: reached, conversion: conversion))
        }
        return (rows, won, lost)
    }

    /// Time in stage: for each stage, the stays that ended (the deal moved on) in the period —
    /// count, average and median. A deal still in a stage is not counted there.
    public func timeInStage(_ filter: PipelineFilter) -> [(stage: String, stats: DurationStats?)] {
        var stays = [String: [Int64]]()
        for d in deals(filter) {
            let steps = history[d.id] ?? []
            for (a, b) in zip(steps, steps.dropFirst()) where filter.contains(milliseconds: b.at) {
                stays[a.to, default: []].append(b.at - a.at)
            }
        }
        return workspace.stages.map { ($0.name, DurationStats(stays[$0.name] ?? [])) }
    }

    /// Follow-up after the hand-off (the first move into the hand-off stage, in the period):
    /// per owner and in total, deals handed off, those with an activity since, the time to the
    /// first one (average, median) and activities since the hand-off per deal handed off.
    public struct FollowUp: Sendable {
        /// The owner, or `all` on the last row, everyone's (`isTotal`).
        public var owner: String
        /// The row of every owner together (told apart by this, not by its name: a user may be
        /// called `all`).
        public var isTotal = false
        public var handedOff: Int
        public var followedUp: Int
        public var firstActivity: DurationStats?
        public var activities: Int
    }

    public func followUp(_ filter: PipelineFilter) -> [FollowUp] {
        guard let handoff = workspace.handoff else { return [] }
        var per = [String?: (Int, Int, [Int64], Int)]()  // nil: everyone
        for d in deals(filter) {
            guard let h = history[d.id]?.first(where: { $0.to == handoff.to }), filter.contains(milliseconds: h.at) else { continue }
            let since = (activities[d.id] ?? []).filter { $0 >= h.at }
            for key: String? in [d.owner ?? "-", nil] {
                var e = per[key] ?? (0, 0, [], 0)
                e.0 += 1
                if let first = since.first { e.1 += 1; e.2.append(first - h.at) }
                e.3 += since.count
                per[key] = e
            }
        }
        return per.keys.sorted { ($0 == nil ? 1 : 0, $0 ?? "") < ($1 == nil ? 1 : 0, $1 ?? "") }.map { k in
            let e = per[k]!
            return FollowUp(owner: k ?? "all", isTotal: k == nil, handedOff: e.0, followedUp: e.1, firstActivity: DurationStats(e.2), activities: e.3)
        }
    }
}

/// `a / b` as a percentage with one decimal, half up (`"66.7"`); nil when b is 0.
public func percentText(_ a: Int, _ b: Int) -> String? {
    guard b > 0 else { return nil }
    let t = (Int64(a) * 1000 * 2 + Int64(b)) / (Int64(b) * 2)
    return "\(t / 10).\(t % 10)"
}

// MARK: - Forecast

/// The forecast (issue 15; every CRM has one): per owner and close month, per currency, the open
/// pipeline, its weighted value (amount × the deal's `probability`, else its stage's), best case
/// and commit (open deals at or after the workspace's forecast stages) and what was won. Exact
/// decimals throughout; a weighted cent rounds half up.
public struct ForecastRow: Sendable, Hashable {
    public var owner: String
    /// `YYYY-MM` of the close date; "-" for deals without one.
    public var month: String
    public var deals = 0
    public var pipeline = CurrencyTotals()
    public var weighted = CurrencyTotals()
    public var bestCase = CurrencyTotals()
    public var commit = CurrencyTotals()
    public var won = CurrencyTotals()
}

extension Pipeline {
    /// The chance (0–100) a deal closes won: its own `probability` when set, else its stage's.
    public func probability(of deal: Record) -> Int {
        if case let .integer(p) = deal["probability"] { return Int(max(0, min(100, p))) }
        guard case let .member(s) = deal["stage"], let stage = workspace.stage(s) else { return 0 }
        return stage.probability ?? (stage.closed ? 0 : 50)
    }

    /// `amount × percent / 100` at the amount's scale, half up (exact: no binary floating point).
    public static func weighted(_ a: ExactDecimal, percent p: Int) -> ExactDecimal {
        let q = a.units / 100, r = a.units % 100
        let rest = (r * Int64(p) + (r >= 0 ? 50 : -50)) / 100
        return ExactDecimal(units: q * Int64(p) + rest, scale: a.scale)
    }

    /// Rows per owner and close month, in month then owner order; deals closing outside
    /// `from`–`to` (when given) are left out.
    /// `byOwner` false: one row per month, every owner's deals together (owner "-"), as the web
    /// app's forecast pictures draw them.
    public func forecast(_ filter: PipelineFilter, from: CivilDate? = nil, to: CivilDate? = nil, byOwner: Bool = true) -> [ForecastRow] {
        let best = workspace.forecast.flatMap { workspace.stageIndex($0.bestCaseFrom) }
        let commit = workspace.forecast.flatMap { workspace.stageIndex($0.commitFrom) }
        var rows = [String: ForecastRow]()
        for d in deals(filter) {
            var month = "-"
            if case let .date(close) = d["close_date"] {
                if let from, close < from { continue }
                if let to, close > to { continue }
                month = String(close.description.prefix(7))
            } else if from != nil || to != nil {
                continue
            }
            guard case let .member(s) = d["stage"], let index = workspace.stageIndex(s), let stage = workspace.stage(s) else { continue }
            if stage.closed && s != "won" { continue }  // lost deals forecast nothing
            let owner = byOwner ? d.owner ?? "-" : "-"
            var row = rows[owner + "|" + month] ?? ForecastRow(owner: owner, month: month)
            row.deals += 1
            let amount = d["amount"], currency = d["currency"]
            if s == "won" {
                row.won.add(amount, currency: currency)
            } else {
                row.pipeline.add(amount, currency: currency)
                if case let .decimal(a) = amount { row.weighted.add(.decimal(Self.weighted(a, percent: probability(of: d))), currency: currency) }
                if let best, index >= best { row.bestCase.add(amount, currency: currency) }
                if let commit, index >= commit { row.commit.add(amount, currency: currency) }
            }
            rows[owner + "|" + month] = row
        }
        return rows.values.sorted { ($0.month, $0.owner) < ($1.month, $1.owner) }
    }
}
