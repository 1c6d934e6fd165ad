import Foundation
import OppsCommands
import OppsConsole
import OppsCore
import Testing

@testable import OppsConsole

/// What a person reads and types is on their own clock (LocalTime): a rep in Beijing at 07:30
/// on the 5th is on the 5th, though UTC is still on the 4th. Stored values stay UTC instants
/// and calendar dates as typed.
@Suite struct LocalTimeTests {
    /// 2026-12-04T23:30:00Z: 07:30 on the 5th in Beijing.
    static let lateUTC: Int64 = Int64(CivilDate(year: 2026, month: 12, day: 4)!.daysSinceEpoch) * 86_400_000 + (23 * 60 + 30) * 60_000

    @Test func zonesWithoutRulesAreReadAsPOSIXWritesThem() {
        #expect(LocalTime.fixedOffset("UTC") == 0)
        #expect(LocalTime.fixedOffset("UTC0") == 0)
        #expect(LocalTime.fixedOffset("CST-8") == 8 * 3600, "POSIX counts west: CST-8 is 8 hours east")
        #expect(LocalTime.fixedOffset("EST5") == -5 * 3600)
        #expect(LocalTime.fixedOffset("<+0530>-5:30") == 5 * 3600 + 30 * 60)
        #expect(LocalTime.fixedOffset("IST-05:30:15") == 5 * 3600 + 30 * 60 + 15)
        for ruled in ["Asia/Shanghai", "EST5EDT,M3.2.0,M11.1.0", "X-8", "CST-8:61", "CST-99", ""] {
            #expect(LocalTime.fixedOffset(ruled) == nil, "\(ruled)")
        }
    }

    /// A reading of a clock that was set back names the first of its two instants, and one of a
    /// clock set forward (a time that never happened) the time moved on by the change — west of
    /// UTC and east of it alike (zones with rules, written out here as their 2026 changes).
    @Test func aTimeTypedInTheHourAClockChangeRepeatsOrSkipsIsReadOneWay() {
        func ms(_ text: String) -> Int64 { try! Timestamp(parsing: text).milliseconds }
        let hour = 3_600
        // New York: EDT (-4) from 2026-03-08 07:00Z to 2026-11-01 06:00Z, EST (-5) outside.
        let newYork = { (t: Int64) -> Int in t >= ms("2026-03-08T07:00:00Z") && t < ms("2026-11-01T06:00:00Z") ? -4 * hour : -5 * hour }
        // Berlin: CEST (+2) from 2026-03-29 01:00Z to 2026-10-25 01:00Z, CET (+1) outside.
        let berlin = { (t: Int64) -> Int in t >= ms("2026-03-29T01:00:00Z") && t < ms("2026-10-25T01:00:00Z") ? 2 * hour : hour }
        let cases: [(zone: (Int64) -> Int, reading: String, instant: String)] = [
            (newYork, "2026-11-01T00:30:00Z", "2026-11-01T04:30:00Z"),
            (newYork, "2026-11-01T01:30:00Z", "2026-11-01T05:30:00Z"),  // 01:30 EDT, not 01:30 EST
            (newYork, "2026-11-01T02:30:00Z", "2026-11-01T07:30:00Z"),
            (newYork, "2026-03-08T01:30:00Z", "2026-03-08T06:30:00Z"),
            (newYork, "2026-03-08T02:30:00Z", "2026-03-08T07:30:00Z"),  // never happened: 03:30 EDT
            (newYork, "2026-03-08T03:30:00Z", "2026-03-08T07:30:00Z"),
            (berlin, "2026-10-25T01:30:00Z", "2026-10-24T23:30:00Z"),
            (berlin, "2026-10-25T02:30:00Z", "2026-10-25T00:30:00Z"),  // 02:30 CEST, not 02:30 CET
            (berlin, "2026-10-25T03:30:00Z", "2026-10-25T02:30:00Z"),
            (berlin, "2026-03-29T02:30:00Z", "2026-03-29T01:30:00Z"),  // never happened: 03:30 CEST
            (berlin, "2026-07-01T09:00:00Z", "2026-07-01T07:00:00Z"),
            ({ _ in 8 * hour }, "2026-12-05T07:30:00Z", "2026-12-04T23:30:00Z"),
        ]
        for c in cases {
            let got = LocalTime.instant(reading: ms(c.reading), offsetAt: c.zone)
            #expect(Timestamp(milliseconds: got) == (try! Timestamp(parsing: c.instant)), "\(c.reading) → \(Timestamp(milliseconds: got)), not \(c.instant)")
        }
    }

    @Test func minutesAndDaysAreReadOnTheReadersClock() {
        let beijing = 8 * 3600
        #expect(minuteText(Self.lateUTC) == "2026-12-04 23:30")
        #expect(minuteText(Self.lateUTC, offsetSeconds: beijing) == "2026-12-05 07:30")
        #expect(minuteText(Self.lateUTC, offsetSeconds: -5 * 3600) == "2026-12-04 18:30")
        #expect(Timestamp(milliseconds: Self.lateUTC).date.description == "2026-12-04")
        #expect(Timestamp(milliseconds: Self.lateUTC).date(offsetSeconds: beijing).description == "2026-12-05")
        // A report's period is in the reader's days: 23:30 UTC on the 4th is Beijing's 5th.
        let fifth = CivilDate(year: 2026, month: 12, day: 5)!
        var period = PipelineFilter(from: fifth, to: fifth)
        #expect(!period.contains(milliseconds: Self.lateUTC))
        period.offsetSeconds = beijing
        #expect(period.contains(milliseconds: Self.lateUTC))
        // Before 1970 and at the ends of the range: no trap, the day still follows the clock.
        #expect(Timestamp(milliseconds: -1).date(offsetSeconds: 0).description == "1969-12-31")
        #expect(Timestamp(milliseconds: -1).date(offsetSeconds: 1).description == "1970-01-01")
        _ = Timestamp(milliseconds: .max).date(offsetSeconds: beijing)
        _ = Timestamp(milliseconds: .min).date(offsetSeconds: -beijing)
        _ = minuteText(.max, offsetSeconds: .max)
    }

    /// The same laptop at the same instant, 2026-12-04 23:30 UTC: in Beijing (TZ=CST-8) today
    /// is the 5th and 明天 the 6th; on a UTC clock today is the 4th. A time typed as opps shows it
    /// is the reader's, and opps shows the sync's minute on the same clock.
    @Test func aRepInBeijingAtHalfPastSevenIsOnBeijingsDay() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let beijing = ["TZ": "CST-8"], utc = [String: String]()
            func at(_ env: [String: String], _ args: String...) async -> Run {
                await DeviceClock.$fixed.withValue(Self.lateUTC) { await opps(args + ["--home", f.home("sam")], environment: env) }
            }
            #expect(await at(beijing, "init", "--hub", url, "--token", f.tokens["sam"]!).code == 0)
            let deal = try #require(await at(beijing, "new", "华东 续约", "--account", "上海云帆", "--json").json?["id"]?.string)

            #expect(await at(beijing, "today", "--json").json?["date"]?.string == "2026-12-05")
            #expect(await at(utc, "today", "--json").json?["date"]?.string == "2026-12-04")
            let there = await at(beijing, "task", "add", deal, "回电", "--due", "明天", "--json")
            #expect(there.json?["fields"]?["due"]?.string == "2026-12-06", "\(there.stdout)\(there.stderr)")
            let here = await at(utc, "task", "add", deal, "回电", "--due", "明天", "--json")
            #expect(here.json?["fields"]?["due"]?.string == "2026-12-05")
            #expect(await at(beijing, "set", deal, "close_date=今天").code == 0)
            #expect(await at(beijing, "show", deal, "--json").json?["fields"]?["close_date"]?.string == "2026-12-05")

            // A time typed as opps shows it is on the reader's clock; with UTC after it, in UTC.
            let call = await at(beijing, "log", deal, "call", "约了周五", "--at", "2026-12-05 07:00", "--json")
            #expect(call.json?["fields"]?["at"]?.string == "2026-12-04T23:00:00.000Z", "\(call.stdout)\(call.stderr)")
            let utcCall = await at(beijing, "log", deal, "call", "再约", "--at", "2026-12-04 22:00 UTC", "--json")
            #expect(utcCall.json?["fields"]?["at"]?.string == "2026-12-04T22:00:00.000Z", "\(utcCall.stdout)")

            // The sync's minute, on the reader's clock, without a zone to work out.
            #expect(await at(beijing, "sync").code == 0)
            let status = await at(beijing, "status")
            #expect(status.stdout.contains("2026-12-05 07:30"), "\(status.stdout)")
            #expect(!status.stdout.contains("UTC"))
            #expect(await at(utc, "status").stdout.contains("2026-12-04 23:30"))
        }
    }
}
