import Testing

@testable import OppsCore

@Suite struct ExactDecimalTests {
    @Test(arguments: [("12000.00", 1_200_000, 2), ("-1.5", -15, 1), ("0.05", 5, 2), ("100", 100, 0), ("-0.001", -1, 3)])
    func parsesAndPrintsCanonically(text: String, units: Int64, scale: UInt8) throws {
        let d = try ExactDecimal(parsing: text)
        #expect(d.units == units)
        #expect(d.scale == scale)
        #expect(d.description == text)
    }

    @Test(arguments: ["", "-", "1.", ".5", "1e3", "+1", "1,000", "1.2.3", "abc", "99999999999999999999"])
    func refusesWhatIsNotADecimal(text: String) {
        #expect(throws: ValueError.self) { try ExactDecimal(parsing: text) }
    }

    /// A date as people type it, relative to today (2026-12-03): the year nearest today for a
    /// month and day alone, so a date in January typed in December is next year's.
    @Test func aDateIsTakenAsPeopleTypeIt() throws {
        let today = try #require(CivilDate(year: 2026, month: 12, day: 3))
        func typed(_ text: String) -> String? { CivilDate.typed(text, today: today)?.description }
        #expect(typed("2026-12-05") == "2026-12-05")
        #expect(typed("2026/12/5") == "2026-12-05" && typed("2026.12.05") == "2026-12-05" && typed("2026年12月5日") == "2026-12-05")
        #expect(typed("12-05") == "2026-12-05" && typed("12/5") == "2026-12-05" && typed("12月5日") == "2026-12-05")
        #expect(typed("1-15") == "2027-01-15", "next January, not last")
        #expect(typed("11-30") == "2026-11-30", "last week, not next year")
        #expect(typed("明天") == "2026-12-04" && typed("tomorrow") == "2026-12-04" && typed(" Today ") == "2026-12-03")
        #expect(typed("后天") == "2026-12-05" && typed("昨天") == "2026-12-02")
        #expect(typed("2-30") == nil && typed("2026-02-30") == nil && typed("13/1") == nil && typed("") == nil)
        // Counted from today, as people say a due date; the month's last day.
        #expect(typed("3天后") == "2026-12-06" && typed("三天后") == "2026-12-06" && typed("３ 天后") == "2026-12-06" && typed("大后天") == "2026-12-06")
        #expect(typed("两周后") == "2026-12-17" && typed("1个星期后") == "2026-12-10" && typed("十天后") == "2026-12-13" && typed("二十一天后") == "2026-12-24")
        #expect(typed("1个月后") == "2027-01-03" && typed("三个月后") == "2027-03-03")
        #expect(typed("in 3 days") == "2026-12-06" && typed("in a week") == "2026-12-10" && typed("in 2 weeks") == "2026-12-17" && typed("in a month") == "2027-01-03")
        #expect(typed("月底") == "2026-12-31" && typed("end of month") == "2026-12-31" && typed("下月底") == "2027-01-31")
        // The quarter's end and the year's, as a close date is given.
        #expect(typed("本季度末") == "2026-12-31" && typed("下季度末") == "2027-03-31" && typed("end of quarter") == "2026-12-31" && typed("EOQ") == "2026-12-31")
        #expect(typed("年底") == "2026-12-31" && typed("明年年底") == "2027-12-31" && typed("end of year") == "2026-12-31")
        for (day, end, next) in [((2027, 2, 10), "2027-03-31", "2027-06-30"), ((2027, 4, 1), "2027-06-30", "2027-09-30"), ((2027, 9, 30), "2027-09-30", "2027-12-31")] {
            let d = try #require(CivilDate(year: day.0, month: day.1, day: day.2))
            #expect(CivilDate.typed("季度末", today: d)?.description == end && CivilDate.typed("下个季度末", today: d)?.description == next, "\(day)")
        }
        #expect(
            CivilDate.typed("1个月后", today: try #require(CivilDate(year: 2027, month: 1, day: 31)))?.description == "2027-02-28",
            "a month on from 31 January: February's last day")
        #expect(typed("天后") == nil && typed("几天后") == nil && typed("十十天后") == nil && typed("in days") == nil && typed("999999天后") == nil)
        // Never a day before today by a count (`-3天后` is not three days ago).
        #expect(typed("-3天后") == nil && typed("－3天后") == nil && typed("0.5天后") == nil && typed("0天后") == "2026-12-03")
        // A day of the week (2026-12-03 is a Thursday; weeks begin on Monday): the next one, today
        // included; this week's; next week's.
        #expect(typed("周五") == "2026-12-04" && typed("星期五") == "2026-12-04" && typed("礼拜五") == "2026-12-04" && typed("Friday") == "2026-12-04")
        #expect(typed("周四") == "2026-12-03" && typed("周三") == "2026-12-09" && typed("周日") == "2026-12-06" && typed("星期天") == "2026-12-06")
        #expect(typed("本周一") == "2026-11-30" && typed("这周五") == "2026-12-04" && typed("this monday") == "2026-11-30")
        #expect(typed("下周五") == "2026-12-11" && typed("下个星期一") == "2026-12-07" && typed("下周日") == "2026-12-13" && typed("next friday") == "2026-12-11")
        #expect(typed("fri") == "2026-12-04" && typed("next Mon") == "2026-12-07")
        #expect(typed("下下周三") == "2026-12-16" && typed("下下个星期一") == "2026-12-14" && typed("上上周五") == "2026-11-20" && typed("下下下周一") == nil)
        #expect(typed("上周一") == "2026-11-23" && typed("上个星期五") == "2026-11-27" && typed("last friday") == "2026-11-27")
        #expect(typed("周八") == nil && typed("下周") == nil && typed("周五五") == nil && typed("next") == nil)
        #expect(try #require(CivilDate(year: 1970, month: 1, day: 1)).weekday == 4)
        #expect(try #require(CivilDate(year: 1969, month: 12, day: 29)).weekday == 1)
        #expect(typed("2-29") == nil, "no 29 February in 2025–2027: only a real date is taken")
        #expect(CivilDate.typed("2-29", today: try #require(CivilDate(year: 2028, month: 1, day: 10)))?.description == "2028-02-29")
    }

    /// An amount as people type it: grouped as opps prints it, with the yuan sign or 元, in 万 or
    /// 亿 as Chinese sales people say amounts, in k or M as English ones do, in full-width digits.
    /// The number, exactly.
    @Test func anAmountIsTakenAsPeopleTypeIt() {
        func typed(_ text: String) -> String? { ExactDecimal.typed(text)?.description }
        #expect(typed("120000.00") == "120000.00" && typed("1,234,567.50") == "1234567.50" && typed(" 42 ") == "42")
        #expect(typed("12万") == "120000" && typed("1.5万") == "15000" && typed("12.345678万") == "123456.78")
        #expect(typed("3亿") == "300000000" && typed("0.25亿") == "25000000")
        #expect(typed("¥120,000") == "120000" && typed("￥12万") == "120000" && typed("120000元") == "120000" && typed("12万元") == "120000")
        #expect(typed("１２万") == "120000" && typed("１，２００．５") == "1200.5")
        #expect(typed("-5万") == "-50000")
        // In k and M, as English-speaking sales people write them.
        #expect(typed("120k") == "120000" && typed("120K") == "120000" && typed("1.2M") == "1200000" && typed("2.5m") == "2500000" && typed("0.75k") == "750")
        #expect(typed("120 k") == "120000" && typed("1,200k") == "1200000" && typed("120kk") == nil && typed("k") == nil && typed("12万k") == nil)
        #expect(typed("12 万") == "120000" && typed("¥ 120,000") == "120000" && typed("120000 元") == "120000")
        // Separators only in their places; one unit; nothing else around the number.
        #expect(typed("1,2000") == nil && typed("12万万") == nil && typed("万") == nil && typed("$100") == nil && typed("lots") == nil && typed("") == nil)
        // Within the 18 digits a decimal holds.
        #expect(typed("99999999999亿") == nil && typed("9999999999亿") == "999999999900000000")
    }

    /// An amount typed with its currency: the code on either side, a sign that names one
    /// currency, the Chinese name after it. `¥` and `$` name none; nothing else is read looser
    /// than `typed` reads the number.
    @Test func anAmountTypedWithItsCurrencyNamesIt() {
        func typed(_ text: String) -> String? {
            ExactDecimal.typedWithCurrency(text).map { "\($0.amount)" + ($0.currency.map { " " + $0 } ?? "") }
        }
        #expect(typed("35万元") == "350000 CNY" && typed("350000 元") == "350000 CNY" && typed("35万人民币") == "350000 CNY")
        #expect(typed("5万美元") == "50000 USD" && typed("5,000美金") == "5000 USD" && typed("8万港币") == "80000 HKD" && typed("8万港元") == "80000 HKD")
        #expect(typed("200万日元") == "2000000 JPY" && typed("3万欧元") == "30000 EUR" && typed("1.5万英镑") == "15000 GBP")
        #expect(typed("350000 CNY") == "350000 CNY" && typed("usd 5,000") == "5000 USD" && typed("5万USD") == "50000 USD" && typed("1.2M eur") == "1200000 EUR")
        #expect(typed("US$5,000") == "5000 USD" && typed("hk$12万") == "120000 HKD" && typed("€800") == "800 EUR" && typed("£1.2k") == "1200 GBP")
        // A code the workspace may not have is still read as one: the currency field refuses it.
        #expect(typed("5000 AUD") == "5000 AUD")
        // No currency named: the amount alone.
        #expect(typed("¥120,000") == "120000" && typed("120000") == "120000" && typed("12万") == "120000" && typed("120k") == "120000")
        // Nothing typed refuses is taken because a currency is beside it.
        #expect(typed("$100") == nil && typed("lots USD") == nil && typed("USD") == nil && typed("元") == nil && typed("1,2000 CNY") == nil)
        #expect(typed("5000 USDX") == nil && typed("CN 5000") == nil && typed("") == nil)
    }

    /// A percentage as people type it (`40%`, `12.5 %`, full-width `１５％`), and as a reader
    /// reads one: the number without the zeros that say nothing, the sign after it.
    @Test func aPercentageIsTypedAndReadWithItsSign() throws {
        func typed(_ text: String) -> String? { ExactDecimal.typedPercent(text)?.description }
        #expect(typed("40%") == "40" && typed("12.5 %") == "12.5" && typed("１５％") == "15" && typed(" 8% ") == "8")
        #expect(typed("40") == nil && typed("%") == nil && typed("40%%") == nil && typed("abc%") == nil)
        // In tenths, as a Chinese rep gives a deal's chance.
        #expect(typed("六成") == "60" && typed("6成") == "60" && typed("七成半") == "75" && typed("十成") == "100" && typed("两成") == "20")
        #expect(typed("十一成") == nil && typed("十成半") == nil && typed("成") == nil && typed("几成") == nil)
        #expect(try ExactDecimal(parsing: "15.00").trimmed.description == "15")
        #expect(try ExactDecimal(parsing: "12.50").trimmed.description == "12.5")
        #expect(try ExactDecimal(parsing: "0.00").trimmed.description == "0")
        #expect(try ExactDecimal(parsing: "100").trimmed.description == "100")
        // The workspace's percentages read with the sign; an amount with its separators; a
        // field that counts nothing as it is.
        let words = Vocabulary(.default, locale: "zh-CN")
        #expect(words.value("opportunity", "discount", .decimal(try ExactDecimal(parsing: "15.00"))) == "15%")
        #expect(words.value("opportunity", "discount", .decimal(try ExactDecimal(parsing: "12.50"))) == "12.5%")
        #expect(words.value("opportunity", "probability", .integer(40)) == "40%")
        #expect(words.value("opportunity", "amount", .decimal(try ExactDecimal(parsing: "1200000.50"))) == "1,200,000.50")
        #expect(Workspace.default.entity("opportunity")?.field("probability")?.boundsText == "0–100%")
        #expect(Workspace.default.entity("opportunity")?.field("amount")?.boundsText == "≥\u{00A0}0")
    }

    /// A duration as a reader reads it: minutes under an hour, hours and minutes under a day,
    /// days and hours beyond, each rounded to its last unit.
    @Test func aDurationReadsInItsLargestUnits() {
        func both(_ ms: Int64) -> [String] { [durationText(milliseconds: ms, chinese: false), durationText(milliseconds: ms, chinese: true)] }
        #expect(both(0) == ["0 min", "0分钟"])
        #expect(both(45 * 60_000 + 29_000) == ["45 min", "45分钟"])
        #expect(both(59 * 60_000 + 31_000) == ["1h", "1小时"])
        #expect(both(5 * 3_600_000 + 12 * 60_000) == ["5h 12m", "5小时12分"])
        #expect(both(24 * 3_600_000) == ["1d", "1天"])
        #expect(both(104 * 3_600_000 + 31 * 60_000) == ["4d 9h", "4天9小时"])
        #expect(both(47 * 3_600_000 + 59 * 60_000) == ["2d", "2天"])
        #expect(both(-90 * 60_000) == ["-1h 30m", "-1小时30分"])
    }

    @Test func comparesAcrossScales() throws {
        let a = try ExactDecimal(parsing: "10.5"), b = try ExactDecimal(parsing: "10.50"), c = try ExactDecimal(parsing: "10.51")
        #expect(ExactDecimal.compare(a, b) == 0)
        #expect(a < c)
        #expect(!(c < a))
        #expect(try ExactDecimal(parsing: "-2") < ExactDecimal(parsing: "-1.99"))
        // Rescaling that overflows still orders by magnitude and sign.
        let huge = ExactDecimal(units: Int64.max / 2, scale: 0)
        let tiny = ExactDecimal(units: 1, scale: 18)
        #expect(tiny < huge)
        #expect(ExactDecimal(units: -Int64.max / 2, scale: 0) < tiny)
    }

    @Test func rescalesOnlyWithoutLosingDigits() throws {
        #expect(try ExactDecimal(parsing: "7").rescaled(to: 2)?.description == "7.00")
        #expect(try ExactDecimal(parsing: "7.10").rescaled(to: 1)?.description == "7.1")
        #expect(try ExactDecimal(parsing: "7.15").rescaled(to: 1) == nil)
    }
}

@Suite struct DateAndTimeTests {
    @Test(arguments: [("1970-01-01", 0), ("2026-12-31", 20818), ("2000-02-29", 11016), ("1969-12-31", -1)])
    func datesMapToDaysSinceEpoch(text: String, days: Int32) throws {
        let d = try CivilDate(parsing: text)
        #expect(d.daysSinceEpoch == days)
        #expect(d.description == text)
    }

    @Test(arguments: ["2026-02-29", "2026-13-01", "2026-1-01", "26-01-01", "2026-01-32", "2026/01/01", "2026-01-0a"])
    func refusesImpossibleDates(text: String) {
        #expect(throws: ValueError.self) { try CivilDate(parsing: text) }
    }

    @Test func timestampsRoundTrip() throws {
        let t = try Timestamp(parsing: "2026-11-29T01:43:48.123Z")
        #expect(t.milliseconds == 1_795_916_628_123)
        #expect(t.description == "2026-11-29T01:43:48.123Z")
        #expect(try Timestamp(parsing: "2026-11-29T01:43:48Z").description == "2026-11-29T01:43:48.000Z")
        #expect(Timestamp(milliseconds: -1).description == "1969-12-31T23:59:59.999Z")
        #expect(throws: ValueError.self) { try Timestamp(parsing: "2026-11-29T25:00:00Z") }
        #expect(throws: ValueError.self) { try Timestamp(parsing: "2026-11-29 01:00:00") }
    }

    @Test func everyDayOfEightHundredYearsRoundTrips() {
        // The civil-date algorithm is exact over two whole Gregorian cycles around the epoch.
        var failures = [Int]()
        var previous: (Int, Int, Int)? = nil
        for days in -146_097..<146_097 {
            let c = CivilDate(daysSinceEpoch: Int32(days)).components
            if CivilDate(year: c.year, month: c.month, day: c.day)?.daysSinceEpoch != Int32(days) { failures.append(days) }
            if let p = previous, !(p < c) { failures.append(days) }
            previous = c
        }
        #expect(failures.isEmpty, "first failing day: \(failures.first ?? 0)")
    }
}

@Suite struct ValueEncodingTests {
    static let values: [Value] = [
        .null, .text("商机"), .integer(-42), .decimal(ExactDecimal(units: 1_200_000, scale: 2)),
        .date(CivilDate(daysSinceEpoch: 20818)), .member("won"), .boolean(false),
        .reference(UUID128(high: 0x0190_A1B2_C3D4_7E5F, low: 0x8A1B_2C3D_4E5F_6071)), .timestamp(Timestamp(milliseconds: 1_795_916_628_123)),
    ]

    @Test(arguments: values)
    func typedJSONRoundTrips(value: Value) throws {
        let json = value.typedJSON
        let back = try Value(typedJSON: JSON.parse(json.compactText))
        #expect(back == value)
    }

    @Test func canonicalBytesAreTagThenText() {
        #expect(Value.null.canonicalBytes == [0])
        #expect(Value.integer(-42).canonicalBytes == [2] + Array("-42".utf8))
        #expect(Value.decimal(ExactDecimal(units: 1_200_000, scale: 2)).canonicalBytes == [3] + Array("12000.00".utf8))
        #expect(Value.boolean(true).canonicalBytes == [6] + Array("true".utf8))
        // Same text, different kinds: different bytes.
        #expect(Value.text("won").canonicalBytes != Value.member("won").canonicalBytes)
    }

    @Test func plainJSONKeepsDecimalsAsStrings() {
        #expect(Value.decimal(ExactDecimal(units: 1_200_000, scale: 2)).plainJSON.compactText == "\"12000.00\"")
        #expect(Value.integer(7).plainJSON.compactText == "7")
        #expect(Value.null.plainJSON.compactText == "null")
    }
}

@Suite struct IdentifierTests {
    @Test func uuidParsesAndPrints() throws {
        let text = "0190a1b2-c3d4-7e5f-8a1b-2c3d4e5f6071"
        let id = try #require(UUID128(parsing: text))
        #expect(id.description == text)
        #expect(UUID128(parsing: text.uppercased()) == id)
        #expect(UUID128(bytes: id.bytes) == id)
        #expect(UUID128(parsing: "0190a1b2c3d47e5f8a1b2c3d4e5f6071") == nil)
        #expect(UUID128(parsing: "0190a1b2-c3d4-7e5f-8a1b-2c3d4e5f607g") == nil)
        #expect(UUID128(bytes: [1, 2, 3]) == nil)
    }

    @Test func version7CarriesTimeAndSortsByIt() {
        var rng = SeededGenerator(seed: 7)
        let a = UUID128.version7(milliseconds: 1_795_916_628_123, using: &rng)
        let b = UUID128.version7(milliseconds: 1_795_916_628_124, using: &rng)
        #expect(a.version == 7)
        #expect(a.high >> 16 == 1_795_916_628_123)
        #expect(a.low >> 62 == 0b10)  // RFC 9562 variant
        #expect(a < b)
        #expect(ReplicaID.random(using: &rng).uuid.version == 4)
    }

    @Test func seededGeneratorReplays() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
    }
}

@Suite struct HybridLogicalClockTests {
    @Test func ticksStrictlyIncreaseEvenWhenTheWallClockStandsStillOrGoesBack() {
        var clock = HybridLogicalClock()
        let a = clock.tick(physical: 1000)
        let b = clock.tick(physical: 1000)
        let c = clock.tick(physical: 900)
        let d = clock.tick(physical: 2000)
        #expect(a < b && b < c && c < d)
        #expect(a == HLC(milliseconds: 1000, counter: 0))
        #expect(c == HLC(milliseconds: 1000, counter: 2))
        #expect(d == HLC(milliseconds: 2000, counter: 0))
    }

    @Test func receivingOrdersLaterLocalEventsAfterTheRemote() {
        var clock = HybridLogicalClock()
        _ = clock.tick(physical: 1000)
        let remote = HLC(milliseconds: 5000, counter: 3)  // a device with a fast clock
        clock.receive(remote, physical: 1001)
        let next = clock.tick(physical: 1002)
        #expect(next > remote)
        #expect(next.milliseconds == 5000)
    }

    @Test func stampsOrderByClockThenReplica() {
        let r1 = ReplicaID(UUID128(high: 0, low: 1)), r2 = ReplicaID(UUID128(high: 0, low: 2))
        let early = Stamp(hlc: HLC(rawValue: 10), replica: r2)
        let late = Stamp(hlc: HLC(rawValue: 11), replica: r1)
        #expect(early < late)
        #expect(Stamp(hlc: HLC(rawValue: 10), replica: r1) < early)
    }
}

@Suite struct ChecksumLayoutTests {
    static func fnv(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
    static func bigEndian(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64(n - 1 - $0))) } }

    @Test func aTermIsFNV1aOverTheSpecifiedBytes() {
        var rng = SeededGenerator(seed: 42)
        let values: [Value] = [
            .null, .text("Opportunity — 商机"), .integer(-17), .decimal(ExactDecimal(units: 123_456, scale: 2)),
            .member("proposal"), .date(CivilDate(daysSinceEpoch: 20_500)), .boolean(true),
        ]
        for (i, value) in values.enumerated() {
            let record = UUID128.version7(milliseconds: 1_795_000_000_000 + Int64(i), using: &rng)
            let replica = ReplicaID.random(using: &rng)
            let hlc = HLC(rawValue: rng.next() >> 1)
            let number = UInt32(i == 0 ? 0xFFFF_FFFF : i)
            let state = FieldState(value: value, stamp: Stamp(hlc: hlc, replica: replica), author: "sam", authority: .own, sequence: 9)
            let expected = Self.fnv(record.bytes + Self.bigEndian(UInt64(number), 4) + value.canonicalBytes + Self.bigEndian(hlc.rawValue, 8) + replica.bytes)
            #expect(StateChecksum.term(record: record, fieldNumber: number, state: state) == expected, "\(value)")
            #expect(UUID128(bytes: record.bytes) == record)
            #expect(UUID128(bytes: Array(record.bytes)[...]) == record)  // a slice: the contiguous path
        }
        // A record's term through the prebuilt numbering equals the one through the workspace.
        var deal = Record(
            id: UUID128.version7(milliseconds: 1, using: &rng), entity: "opportunity",
            created: FieldState(
                value: .member("lead"), stamp: Stamp(hlc: HLC(rawValue: 5), replica: ReplicaID.random(using: &rng)), author: "mia", authority: .own, sequence: 1))
        deal.fields["amount"] = FieldState(value: .decimal(ExactDecimal(units: 5, scale: 0)), stamp: deal.created.stamp, author: "mia", authority: .own, sequence: 2)
        deal.fields["name"] = FieldState(value: .text("x"), stamp: deal.created.stamp, author: "mia", authority: .own, sequence: 3)
        #expect(StateChecksum.term(of: deal, numbering: WireNumbering(.default)) == StateChecksum.term(of: deal, workspace: .default))
        #expect(StateChecksum.term(of: deal, workspace: .default) != StateChecksum.term(record: deal.id, fieldNumber: 0, state: deal.created))
    }
}

/// Ids hash without SipHash (UUID128._rawHashValue): it must still spread ids that differ in a
/// few bits — time-ordered UUIDv7s share their high half — over a table's buckets.
@Suite struct IdentifierHashingTests {
    /// Distinct buckets among 4,096 hashes in a 4,096-bucket table: random hashing fills about
    /// 63 % of them (1 - 1/e); a weak mix of a counter fills far fewer (or, by luck, all).
    func buckets(_ ids: [UUID128]) -> Int {
        Set(ids.map { $0.hashValue & 0xFFF }).count
    }

    @Test func idsThatDifferInFewBitsSpreadLikeRandomOnes() {
        let counter = (0..<4096).map { UUID128(high: 0x0190_A1B2_C3D4_7000, low: 0x8000_0000_0000_0000 | UInt64($0)) }
        let clock = (0..<4096).map { UUID128(high: 0x0190_A1B2_C3D4_7000 &+ UInt64($0) << 16, low: 0x8A1B_2C3D_4E5F_6071) }
        let spread = (0..<4096).map { UUID128(high: UInt64($0) << 52, low: UInt64($0) << 52) }
        for ids in [counter, clock, spread] {
            #expect((2400...2800).contains(buckets(ids)), "\(buckets(ids)) buckets")
        }
        var g = SeededGenerator(seed: 5)
        let random = (0..<4096).map { _ in UUID128.version4(using: &g) }
        #expect((2400...2800).contains(buckets(random)))
        // Equal ids hash equal; sets and dictionaries of them behave.
        #expect(UUID128(high: 1, low: 2).hashValue == UUID128(high: 1, low: 2).hashValue)
        #expect(Set(counter + counter).count == 4096)
        #expect(ReplicaID(counter[7]).hashValue == counter[7].hashValue)
    }
}

/// Issue 13 holes 1–2: every kind has a range (merge-semantics.md §1.1), and every reader of a
/// value survives any value, in or out of range — printing, dates of instants, totals.
@Suite struct ValueRangeTests {
    @Test func theEdgesOfTheRangesAreInAndOneBeyondIsOut() throws {
        let first = try CivilDate(parsing: "0001-01-01"), last = try CivilDate(parsing: "9999-12-31")
        #expect(first.daysSinceEpoch == CivilDate.range.lowerBound && last.daysSinceEpoch == CivilDate.range.upperBound)
        #expect(try Timestamp(parsing: "0001-01-01T00:00:00.000Z").milliseconds == Timestamp.range.lowerBound)
        #expect(try Timestamp(parsing: "9999-12-31T23:59:59.999Z").milliseconds == Timestamp.range.upperBound)
        #expect(Value.date(first).rangeProblem == nil && Value.date(last).rangeProblem == nil)
        #expect(Value.date(CivilDate(daysSinceEpoch: last.daysSinceEpoch + 1)).rangeProblem != nil)
        #expect(Value.timestamp(Timestamp(milliseconds: Timestamp.range.upperBound + 1)).rangeProblem != nil)
        #expect(Value.timestamp(Timestamp(milliseconds: Timestamp.range.lowerBound - 1)).rangeProblem != nil)
        #expect(Value.decimal(ExactDecimal(units: ExactDecimal.maxUnits, scale: 2)).rangeProblem == nil)
        #expect(Value.decimal(ExactDecimal(units: ExactDecimal.maxUnits + 1, scale: 2)).rangeProblem != nil)
        #expect(Value.decimal(ExactDecimal(units: Int64.min, scale: 0)).rangeProblem != nil)
        #expect(Value.member(String(repeating: "x", count: 257)).rangeProblem != nil)
        #expect(throws: ValueError.self) { try ExactDecimal(parsing: "1000000000000000000") }  // 19 digits
        #expect(try ExactDecimal(parsing: "999999999999999999").units == ExactDecimal.maxUnits)
        // Rescaling past 18 digits reports instead of trapping or wrapping.
        #expect(ExactDecimal(units: ExactDecimal.maxUnits, scale: 0).rescaled(to: 2) == nil)
    }

    @Test(arguments: [Int64.min, Int64.min + 1, -(1 << 62), Timestamp.range.lowerBound - 1, -1, 0, Timestamp.range.upperBound + 1, 1 << 62, Int64.max])
    func anyTimestampPrintsAndHasADate(ms: Int64) {
        let t = Timestamp(milliseconds: ms)
        #expect(t.description.hasSuffix("Z"))
        #expect(CivilDate.range.contains(t.date.daysSinceEpoch))
        #expect(!Value.timestamp(t).canonicalBytes.isEmpty)
        #expect(HLC(rawValue: UInt64(bitPattern: ms)).description.contains("#"))
    }

    @Test(arguments: [Int32.min, -719_163, 2_932_897, Int32.max])
    func anyDatePrints(days: Int32) {
        #expect(CivilDate(daysSinceEpoch: days).description.count >= 10)
    }

    @Test func totalsBeyondEighteenDigitsAreShownAsSuchNotWrapped() {
        var totals = CurrencyTotals()
        let big = Value.decimal(ExactDecimal(units: ExactDecimal.maxUnits, scale: 2))
        totals.add(big, currency: .member("CNY"))
        totals.add(big, currency: .member("CNY"))
        totals.add(.decimal(ExactDecimal(units: 100, scale: 2)), currency: .member("USD"))
        #expect(totals.description == "CNY (beyond 18 digits), USD 1.00")
    }
}

/// The canonical text is written as bytes without a `String` (CanonicalText.swift); it must be
/// byte for byte what the String-building code before it made, for every kind and any value —
/// the checksum (merge-semantics.md §8) hashes it, so one differing byte splits replica and hub.
@Suite struct CanonicalTextTests {
    // The previous implementations, kept here as the reference.
    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
    static func legacyDate(_ days: Int64) -> String {
        let c = CivilDate.civil(fromDays: Int(days))
        return (c.year < 0 ? "-" : "") + pad(abs(c.year), 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2)
    }
    static func legacyInstant(_ milliseconds: Int64) -> String {
        let day = milliseconds / 86_400_000 - ((milliseconds % 86_400_000 != 0 && milliseconds < 0) ? 1 : 0)
        let r = milliseconds % 86_400_000
        var rest = Int(r < 0 ? r + 86_400_000 : r)
        let h = rest / 3_600_000; rest %= 3_600_000
        let m = rest / 60_000; rest %= 60_000
        let s = rest / 1000
        let ms = rest % 1000
        return legacyDate(day) + "T" + pad(h, 2) + ":" + pad(m, 2) + ":" + pad(s, 2) + "." + pad(ms, 3) + "Z"
    }
    static func legacyDecimal(_ units: Int64, _ scale: UInt8) -> String {
        var digits = String(units.magnitude)
        if scale > 0 {
            if digits.count <= Int(scale) { digits = String(repeating: "0", count: Int(scale) - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -Int(scale)))
        }
        return (units < 0 ? "-" : "") + digits
    }
    static func legacyID(_ id: UUID128) -> String {
        let h = Array(id.hex)
        return String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-" + String(h[20..<32])
    }

    @Test func everyKindWritesWhatTheStringCodeWrote() {
        var rng = SeededGenerator(seed: 2026)
        var integers: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
        var instants: [Int64] = [
            0, -1, 1, 86_399_999, 86_400_000, -86_400_000, -86_400_001, Int64.max, Int64.min, Timestamp.range.lowerBound, Timestamp.range.upperBound,
        ]
        var days: [Int64] = [0, -1, 1, 2_932_896, -719_162, Int64(Int32.max), Int64(Int32.min), 20_500, -719_163, -719_528]
        for _ in 0..<3000 {
            let r = rng.next()
            integers.append(Int64(bitPattern: r) >> Int64(r % 64))
            instants.append(Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64))
            days.append(Int64(Int32(truncatingIfNeeded: rng.next())) >> Int64(rng.next() % 32))
        }
        for i in integers {
            #expect(Value.integer(i).canonicalText == String(i))
            for scale in [0, 1, 2, 3, 17, 18] as [UInt8] {
                let d = ExactDecimal(units: i, scale: scale)
                #expect(d.description == Self.legacyDecimal(i, scale), "\(i) scale \(scale)")
                #expect(Value.decimal(d).canonicalText == Self.legacyDecimal(i, scale))
            }
        }
        for t in instants {
            #expect(Timestamp(milliseconds: t).description == Self.legacyInstant(t), "\(t)")
            #expect(Value.timestamp(Timestamp(milliseconds: t)).canonicalText == Self.legacyInstant(t))
        }
        for d in days where d >= Int64(Int32.min) && d <= Int64(Int32.max) {
            #expect(CivilDate(daysSinceEpoch: Int32(d)).description == Self.legacyDate(d), "\(d)")
            #expect(Value.date(CivilDate(daysSinceEpoch: Int32(d))).canonicalText == Self.legacyDate(d))
        }
        for _ in 0..<2000 {
            let id = UUID128.version7(milliseconds: Int64(rng.next() >> 24), using: &rng)
            #expect(id.description == Self.legacyID(id))
            #expect(Value.reference(id).canonicalText == Self.legacyID(id))
            #expect(UUID128(parsing: id.description) == id)
        }
        #expect(UUID128(high: 0, low: 0).description == "00000000-0000-0000-0000-000000000000")
        #expect(UUID128(high: .max, low: .max).description == "ffffffff-ffff-ffff-ffff-ffffffffffff")
        #expect(Value.null.canonicalText == "null" && Value.boolean(false).canonicalText == "false")
    }

    @Test func theChecksumHashesTheSameBytesForEveryKind() {
        var rng = SeededGenerator(seed: 7)
        let replica = ReplicaID.random(using: &rng)
        let values: [Value] = [
            .reference(UUID128.version7(milliseconds: 1_795_000_000_000, using: &rng)), .timestamp(Timestamp(milliseconds: 1_795_000_123_456)),
            .timestamp(Timestamp(milliseconds: -5)), .date(CivilDate(daysSinceEpoch: -1)), .decimal(ExactDecimal(units: -5, scale: 3)),
            .integer(Int64.min), .boolean(false), .member("谈判"), .text(""),
        ]
        for value in values {
            let record = UUID128.version7(milliseconds: 1, using: &rng)
            let hlc = HLC(rawValue: rng.next() >> 1)
            let state = FieldState(value: value, stamp: Stamp(hlc: hlc, replica: replica), author: "wei", authority: .write, sequence: 3)
            let expected = ChecksumLayoutTests.fnv(
                record.bytes + ChecksumLayoutTests.bigEndian(7, 4) + value.canonicalBytes + ChecksumLayoutTests.bigEndian(hlc.rawValue, 8) + replica.bytes)
            #expect(StateChecksum.term(record: record, fieldNumber: 7, state: state) == expected, "\(value)")
        }
    }
}
