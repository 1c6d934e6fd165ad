import OppsCore
import Testing

/// The report figures from hand-made deals (the end-to-end figures are in ScriptedDayTests).
@Suite struct PipelineTests {
    static let ws = Workspace.default
    static let h: Int64 = 3_600_000

    static func deal(_ n: UInt64, stage: String, log: [(Int64, String, String)], amount: String? = nil, currency: String = "CNY", owner: String = "sam") -> Record {
        // The creation holds the first step; the stage log the others.
        let stamp = Stamp(hlc: HLC(milliseconds: log[0].0, counter: 0), replica: ReplicaID(UUID128(high: 0, low: 1)))
        var r = Record(
            id: UUID128(high: 1, low: n), entity: "opportunity", created: FieldState(value: .member(log[0].1), stamp: stamp, author: log[0].2, authority: .own))
        func set(_ f: String, _ v: Value) { r.fields[f] = FieldState(value: v, stamp: stamp, author: owner, authority: .own) }
        set("stage", .member(stage))
        set("owner", .text(owner))
        if log.count > 1 { set("stage_log", .text(log.dropFirst().map { StageLog.line(at: $0.0, stage: $0.1, by: $0.2) }.joined(separator: "\n"))) }
        if let amount { set("amount", .decimal(try! ExactDecimal(parsing: amount))); set("currency", .member(currency)) }
        return r
    }

    @Test func theFunnelCountsDealsFromWhereTheyEnteredThePipeline() {
        let deals = [
            Self.deal(1, stage: "discovery", log: [(0, "lead", "mia"), (Self.h, "qualified", "mia"), (2 * Self.h, "discovery", "sam")], amount: "100.00"),
            Self.deal(2, stage: "lost", log: [(0, "discovery", "sam"), (24 * Self.h, "lost", "max")], amount: "5.50", currency: "USD"),
            Self.deal(
                3, stage: "won",
                log: [
                    (0, "discovery", "tom"), (24 * Self.h, "solution", "tom"), (36 * Self.h, "proposal", "tom"),
                    (48 * Self.h, "negotiation", "tom"), (72 * Self.h, "won", "tom"),
                ], amount: "200.25", owner: "tom"),
        ]
        let p = Pipeline(workspace: Self.ws, records: deals)
        let f = p.funnel(PipelineFilter())
        #expect(f.rows.map(\.reached) == [1, 1, 3, 1, 1, 1, 1, 1])
        #expect(f.rows.map(\.current) == [0, 0, 1, 0, 0, 0, 1, 1])
        #expect(f.rows.map { $0.conversion.flatMap { percentText($0.0, $0.1) } } == [nil, "100.0", "100.0", "33.3", "100.0", "100.0", "100.0", nil])
        #expect(f.won == 1 && f.lost == 1)
        #expect(f.rows[7].amounts.description == "USD 5.50")
        #expect(f.rows[6].amounts.description == "CNY 200.25")
        #expect(p.funnel(PipelineFilter(owner: "tom")).rows.map(\.reached) == [0, 0, 1, 1, 1, 1, 1, 0])

        let t = Dictionary(uniqueKeysWithValues: p.timeInStage(PipelineFilter()).map { ($0.stage, $0.stats) })
        #expect(t["lead"]??.count == 1 && t["lead"]??.average == Self.h)
        #expect(t["discovery"]??.count == 2)  // deal 2 (24 h) and deal 3 (24 h); deal 1 is still there
        #expect(t["discovery"]??.median == 24 * Self.h)
        #expect(t["solution"]??.average == 12 * Self.h)
        #expect(t["won"]! == nil)
        // A period counts the stays that ended in it: only the first day here.
        let day0 = PipelineFilter(from: CivilDate(daysSinceEpoch: 0), to: CivilDate(daysSinceEpoch: 0))
        #expect(p.timeInStage(day0).compactMap { $0.stats?.count }.reduce(0, +) == 2)
    }

    @Test func totalsAndRoundingAreExact() {
        var t = CurrencyTotals()
        t.add(.decimal(try! ExactDecimal(parsing: "0.10")), currency: .member("CNY"))
        t.add(.decimal(try! ExactDecimal(parsing: "0.20")), currency: .member("CNY"))
        t.add(.decimal(try! ExactDecimal(parsing: "7.00")), currency: .member("EUR"))
        #expect(t.description == "CNY 0.30, EUR 7.00")
        #expect(percentText(2, 3) == "66.7")
        #expect(percentText(1, 8) == "12.5")
        #expect(percentText(1, 0) == nil)
        #expect(daysText(86_400_000 * 3 / 2) == "1.50")
        #expect(hoursText(Self.h * 26) == "26.00")
        #expect(hoursText(Self.h / 200) == "0.01")  // 18 s → 0.005 h, half up
        #expect(StageLog.steps(.text("5 lead mia\nbad line\n9 qualified mia")).map(\.to) == ["lead", "qualified"])
        #expect(StageLog.steps(.text("5 lead mia\n9 qualified mia")).last?.from == "lead")
    }
}

/// The follow-up report's last row is everyone's, told apart by a flag, not by a name a user may
/// have: a rep called `all` (or `*`) is a row of their own.
@Suite struct FollowUpTotalTests {
    @Test func aUserCalledAllIsNotTheTotal() {
        let h = PipelineTests.h
        let deals = [
            PipelineTests.deal(1, stage: "discovery", log: [(0, "qualified", "mia"), (h, "discovery", "all")], owner: "all"),
            PipelineTests.deal(2, stage: "discovery", log: [(0, "qualified", "mia"), (h, "discovery", "*")], owner: "*"),
            PipelineTests.deal(3, stage: "discovery", log: [(0, "qualified", "mia"), (h, "discovery", "sam")], owner: "sam"),
        ]
        let rows = Pipeline(workspace: .default, records: deals).followUp(PipelineFilter())
        #expect(rows.map(\.owner) == ["*", "all", "sam", "all"])
        #expect(rows.map(\.isTotal) == [false, false, false, true])
        #expect(rows.map(\.handedOff) == [1, 1, 1, 3])
    }
}
