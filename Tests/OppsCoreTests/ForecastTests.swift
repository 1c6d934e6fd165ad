import Foundation
import OppsCore
import Testing

/// `opps forecast` in the core: weighted by the deal's probability, else its stage's; best case
/// and commit from the workspace's forecast stages; won counted apart; lost forecast nothing.
@Suite struct ForecastTests {
    static func deal(
        _ n: UInt64, stage: String, amount: String, currency: String = "CNY", close: String?, owner: String = "sam",
        probability: Int64? = nil
    ) throws -> Record {
        let stamp = Stamp(hlc: HLC(rawValue: n << 16), replica: ReplicaID(UUID128(high: 0, low: 1)))
        var r = Record(
            id: UUID128(high: 0x0190_0000_0000_7000, low: 0x8000_0000_0000_0000 | n), entity: "opportunity",
            created: FieldState(value: .member(stage), stamp: stamp, author: owner, authority: .own))
        func set(_ f: String, _ v: Value) { r.fields[f] = FieldState(value: v, stamp: stamp, author: owner, authority: .own, sequence: n) }
        set("stage", .member(stage))
        set("owner", .text(owner))
        set("amount", .decimal(try ExactDecimal(parsing: amount)))
        set("currency", .member(currency))
        if let close { set("close_date", .date(try CivilDate(parsing: close))) }
        if let probability { set("probability", .integer(probability)) }
        return r
    }

    @Test func weightedBestCaseCommitAndWonPerOwnerAndMonth() throws {
        let deals = [
            try Self.deal(1, stage: "discovery", amount: "1000.00", close: "2026-12-10"),  // 30 %
            try Self.deal(2, stage: "solution", amount: "2000.00", close: "2026-12-20"),  // 50 %, best case
            try Self.deal(3, stage: "negotiation", amount: "3000.00", close: "2026-12-31", probability: 95),  // own 95 %, commit
            try Self.deal(4, stage: "won", amount: "500.00", close: "2026-12-05"),
            try Self.deal(5, stage: "lost", amount: "9999.00", close: "2026-12-05"),
            try Self.deal(6, stage: "proposal", amount: "0.05", currency: "USD", close: "2027-01-15", owner: "tom"),  // 60 % of 5 cents = 3 cents
            try Self.deal(7, stage: "proposal", amount: "100.00", close: "2027-03-01"),
        ]
        let p = Pipeline(workspace: .default, records: deals)
        let rows = p.forecast(PipelineFilter(), from: try CivilDate(parsing: "2026-12-01"), to: try CivilDate(parsing: "2027-01-31"))
        #expect(rows.map { "\($0.month) \($0.owner)" } == ["2026-12 sam", "2027-01 tom"])
        let dec = rows[0]
        #expect(dec.deals == 4)  // the lost deal forecasts nothing
        #expect(dec.pipeline.description == "CNY 6000.00")
        #expect(dec.weighted.description == "CNY 4150.00")  // 300 + 1000 + 2850
        #expect(dec.bestCase.description == "CNY 5000.00")
        #expect(dec.commit.description == "CNY 3000.00")
        #expect(dec.won.description == "CNY 500.00")
        #expect(rows[1].weighted.description == "USD 0.03")
        #expect(Pipeline.weighted(try ExactDecimal(parsing: "-0.05"), percent: 50).description == "-0.03")
        #expect(p.forecast(PipelineFilter(owner: "tom")).count == 1)
    }
}
