/// A field value (merge-semantics.md §1). Every value has one canonical text form and one
/// canonical byte form; checksums and tie-breaks use the byte form, so two machines that hold
/// the same value agree on it bit for bit.
public enum Value: Sendable, Hashable {
    case null
    case text(String)
    case integer(Int64)
    /// An exact decimal; amounts never pass through floating point.
    case decimal(ExactDecimal)
    case date(CivilDate)
    /// A member of the field's enumeration (a stage, a currency code, an activity kind…).
    case member(String)
    case boolean(Bool)
    /// Another record, by id.
    case reference(RecordID)
    /// An instant, in milliseconds since 1970-01-01T00:00:00Z.
    case timestamp(Timestamp)

    /// The canonical type tag, equal to the `Value.kind` field number in oppsync.proto.
    public var tag: UInt8 {
        switch self {
        case .null: 0
        case .text: 1
        case .integer: 2
        case .decimal: 3
        case .date: 4
        case .member: 5
        case .boolean: 6
        case .reference: 7
        case .timestamp: 8
        }
    }

    /// The name of the kind, as used in the typed JSON form.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .text: "text"
        case .integer: "integer"
        case .decimal: "decimal"
        case .date: "date"
        case .member: "member"
        case .boolean: "boolean"
        case .reference: "reference"
        case .timestamp: "timestamp"
        }
    }

    /// The canonical text: what `opps show` prints and what the typed JSON form carries.
    /// `null` for null.
    public var canonicalText: String {
        switch self {
        case .null: "null"
        case let .text(s): s
        case let .member(m): m
        case let .boolean(b): b ? "true" : "false"
        case .integer, .decimal, .date, .reference, .timestamp: ASCIIWriter.string { writeCanonical(into: &$0) }
        }
    }

    /// The canonical bytes: the tag, then the UTF-8 canonical text (nothing for null).
    public var canonicalBytes: [UInt8] {
        if case .null = self { return [0] }
        return [tag] + Array(canonicalText.utf8)
    }

    public var isNull: Bool { if case .null = self { return true }; return false }

    // MARK: Ranges (merge-semantics.md §1.1)

    /// The most UTF-8 bytes a text or member value may hold: four bytes for each of the
    /// 1,000,000 characters the longest text field may declare.
    public static let maxTextBytes = 4_000_000
    /// The most UTF-8 bytes of an enumeration member.
    public static let maxMemberBytes = 256

    /// Nil when the value lies in its kind's range (merge-semantics.md §1.1), else why not.
    /// Every value a user sends is checked against this before anything reads it, so no
    /// arithmetic on a stored value can trap: dates and timestamps fall within years 1–9999,
    /// decimals have at most 18 digits and 18 after the point, texts and members are bounded.
    public var rangeProblem: String? {
        switch self {
        case .null, .integer, .boolean, .reference: return nil
        case let .text(s): return s.utf8.count <= Value.maxTextBytes ? nil : "text longer than \(Value.maxTextBytes) bytes"
        case let .member(m): return m.utf8.count <= Value.maxMemberBytes ? nil : "member longer than \(Value.maxMemberBytes) bytes"
        case let .decimal(d): return d.isInRange ? nil : "decimal beyond 18 digits"
        case let .date(d): return CivilDate.range.contains(d.daysSinceEpoch) ? nil : "date outside years 1–9999"
        case let .timestamp(t): return Timestamp.range.contains(t.milliseconds) ? nil : "timestamp outside years 1–9999"
        }
    }

    /// A text field's value as it is kept: line breaks and tabs, but no other control character
    /// (merge-semantics.md §1). A text is shown on other people's screens: an escape sequence in
    /// a deal's name would clear a colleague's terminal or set its title when `opps show` printed
    /// it. A Windows line break (CR LF) becomes a line break; C0 controls, DEL and C1 controls
    /// (U+0080–U+009F, a terminal may take U+009B for an escape) are refused, with the first named.
    public static func plainText(_ s: String) -> Result<String, ValueError> {
        // Most texts have no byte that could start one: 0xC2 leads C1 (and Latin-1 letters).
        guard s.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A) || $0 == 0x7F || $0 == 0xC2 }) else { return .success(s) }
        var out = String.UnicodeScalarView()
        let scalars = Array(s.unicodeScalars)
        for (i, c) in scalars.enumerated() {
            if c == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" { continue }
            if c.isControlCharacter && c != "\t" && c != "\n" {
                let hex = String(c.value, radix: 16, uppercase: true)
                let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                return .failure(
                    ValueError(
                        "text with a control character (\(code)): only line breaks and tabs may be in a text",
                        chinese: "文字里有控制字符（\(code)）：只能有换行和制表符"))
            }
            out.append(c)
        }
        return .success(String(out))
    }

    // MARK: Typed JSON form (vectors, debugging, --json of the command line)

    /// `null`, or a one-member object naming the kind: `{"decimal": "12000.00"}`.
    /// Integers are JSON numbers, booleans JSON booleans, everything else a string.
    public var typedJSON: JSON {
        switch self {
        case .null: return .null
        case let .integer(i): return .object([("integer", .number(i))])
        case let .boolean(b): return .object([("boolean", .bool(b))])
        default: return .object([(kindName, .string(canonicalText))])
        }
    }

    /// The plain JSON form used by `opps show --json`: text, number or null; decimals as
    /// strings (`"12000.00"`) so no reader turns them into floating point.
    public var plainJSON: JSON {
        switch self {
        case .null: .null
        case let .integer(i): .number(i)
        case let .boolean(b): .bool(b)
        default: .string(canonicalText)
        }
    }

    /// Reads the typed JSON form.
    public init(typedJSON json: JSON) throws(ValueError) {
        if json.isNull { self = .null; return }
        guard let members = json.members, members.count == 1 else {
            throw ValueError("a value is null or an object with one member naming its kind")
        }
        let kind = members[0].key
        let body = members[0].value
        switch kind {
        case "integer":
            guard let text = body.numberText, let i = Int64(text) else { throw ValueError("integer must be a whole JSON number") }
            self = .integer(i)
        case "boolean":
            guard let b = body.bool else { throw ValueError("boolean must be true or false") }
            self = .boolean(b)
        default:
            guard let s = body.string else { throw ValueError("\(kind) must be a string") }
            self = try Value.parse(kind: kind, text: s)
        }
    }

    /// Parses the canonical text of a value of the named kind; a value outside its kind's range
    /// (merge-semantics.md §1.1) is refused like any other bad text.
    public static func parse(kind: String, text s: String) throws(ValueError) -> Value {
        let value = try parseUnchecked(kind: kind, text: s)
        if let problem = value.rangeProblem { throw ValueError(problem) }
        return value
    }

    static func parseUnchecked(kind: String, text s: String) throws(ValueError) -> Value {
        switch kind {
        case "text": return .text(s)
        case "integer":
            guard let i = Int64(s) else { throw ValueError("not an integer: \(s)") }
            return .integer(i)
        case "decimal": return .decimal(try ExactDecimal(parsing: s))
        case "date": return .date(try CivilDate(parsing: s))
        case "member": return .member(s)
        case "boolean":
            switch s {
            case "true": return .boolean(true)
            case "false": return .boolean(false)
            default: throw ValueError("not a boolean: \(s)")
            }
        case "reference":
            guard let id = RecordID(parsing: s) else { throw ValueError("not a record id: \(s)") }
            return .reference(id)
        case "timestamp": return .timestamp(try Timestamp(parsing: s))
        default: throw ValueError("unknown value kind \"\(kind)\"")
        }
    }
}

/// A value that could not be read, with the reason.
public struct ValueError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// The same in Chinese, where the thrower wrote it.
    public var chinese: String?
    public init(_ message: String, chinese: String? = nil) {
        self.message = message
        self.chinese = chinese
    }
    public var description: String { message }
}

// MARK: - Exact decimal

/// An exact decimal number: `units × 10^-scale`. `12000.00` is units 1 200 000, scale 2.
/// Equality is structural (same units, same scale); the workspace normalises each decimal
/// field to its declared scale, so stored values of one field always share a scale.
public struct ExactDecimal: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var units: Int64
    public var scale: UInt8

    /// The largest scale accepted: 18 digits after the point.
    public static let maxScale: UInt8 = 18
    /// The largest magnitude of `units`: 18 digits (merge-semantics.md §1.1), so the sum of
    /// nine values never overflows and `rescaled` reports instead of trapping.
    public static let maxUnits: Int64 = 999_999_999_999_999_999

    /// True when scale and units are within the ranges above.
    public var isInRange: Bool { scale <= ExactDecimal.maxScale && units.magnitude <= UInt64(ExactDecimal.maxUnits) }

    public init(units: Int64, scale: UInt8) {
        precondition(scale <= ExactDecimal.maxScale, "scale above 18")
        self.units = units
        self.scale = scale
    }

    /// Parses `-123.45`, `0.5`, `100`. No exponent, no thousands separators, no `+`.
    public init(parsing text: String) throws(ValueError) {
        var s = Substring(text)
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit),
            parts.count == 1 || !fraction.isEmpty
        else { throw ValueError("not a decimal number: \(text)") }
        guard fraction.count <= Int(ExactDecimal.maxScale) else { throw ValueError("too many digits after the point: \(text)") }
        guard let u = Int64(whole + fraction), u <= ExactDecimal.maxUnits else { throw ValueError("decimal beyond 18 digits: \(text)") }
        self.units = negative ? -u : u
        self.scale = UInt8(fraction.count)
    }

    /// An amount as people type it: `120000.00`; grouped as `opps` prints it (`1,234,567.50`,
    /// separators only in their places); with the yuan sign before it or 元 after it (`¥120,000`,
    /// `120000元`); in 万 (ten thousand) or 亿 (a hundred million), as
    /// Chinese sales people say amounts (`12万` is 120000, `1.5亿` is 150000000), or in k and M as
    /// English ones do (`120k`, `1.2M`); in full-width digits (`１２万`). Nil for anything else.
    /// Stored and sent as a decimal like any other: only the typing is loose.
    public static func typed(_ text: String) -> ExactDecimal? {
        var t = String(
            String.UnicodeScalarView(
                text.trimmingSpaces.unicodeScalars.map { c -> Unicode.Scalar in
                    switch c.value {
                    case 0xFF10...0xFF19: Unicode.Scalar(c.value - 0xFF10 + 0x30)!  // ０–９
                    case 0xFF0C: ","  // ，
                    case 0xFF0E: "."  // ．
                    case 0xFF0D: "-"  // －
                    default: c
                    }
                }))
        if t.first == "¥" || t.first == "￥" { t = String(t.dropFirst()).trimmingSpaces }
        if t.last == "元" { t = String(t.dropLast()).trimmingSpaces }
        let shift: UInt8 =
            switch t.last {
            case "万": 4
            case "亿": 8
            case "k", "K": 3
            case "m", "M": 6
            default: 0
            }
        if shift > 0 { t = String(t.dropLast()).trimmingSpaces }
        if t.wholeMatch(of: /-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?/) != nil { t = t.filter { $0 != "," } }
        guard let d = try? ExactDecimal(parsing: t) else { return nil }
        // × 10^shift: fewer digits after the point, else more units.
        if d.scale >= shift { return ExactDecimal(units: d.units, scale: d.scale - shift) }
        return ExactDecimal(units: d.units, scale: 0).rescaled(to: shift - d.scale).map { ExactDecimal(units: $0.units, scale: 0) }
    }

    /// An amount as `typed` reads it, with the currency typed beside it, when one was:
    /// - its code before or after it, in any case (`350000 CNY`, `usd 5,000`, `5万USD`);
    /// - a sign that names one currency before it (`US$5,000`, `HK$12万`, `€800`, `£1.2k`);
    /// - its Chinese name after it (`35万元`, `35万人民币`, `5万美元`, `8万港币`, `200万日元`).
    ///
    /// `¥` alone names no currency (yuan or yen), nor does a bare `$`: the amount is read and the
    /// currency is nil, as for a plain number. The code is returned as typed, upper-cased: whether
    /// the workspace has it is the currency field's to say. Nil for anything `typed` refuses.
    public static func typedWithCurrency(_ text: String) -> (amount: ExactDecimal, currency: String?)? {
        let t = text.trimmingSpaces
        // The Chinese names, longest first (港元 before 元).
        let names: [(String, String)] = [
            ("人民币", "CNY"), ("美元", "USD"), ("美金", "USD"), ("港币", "HKD"), ("港元", "HKD"), ("日元", "JPY"), ("欧元", "EUR"), ("英镑", "GBP"),
            ("元", "CNY"),
        ]
        for (name, code) in names where t.hasSuffix(name) {
            let rest = String(t.dropLast(name.count)).trimmingSpaces
            // `12万元` is read by `typed` with its 元; the others without their name.
            return typed(rest).map { ($0, code) }
        }
        let signs: [(String, String)] = [("US$", "USD"), ("HK$", "HKD"), ("€", "EUR"), ("£", "GBP")]
        for (sign, code) in signs where t.uppercased().hasPrefix(sign) {
            return typed(String(t.dropFirst(sign.count))).map { ($0, code) }
        }
        if let m = t.wholeMatch(of: /([A-Za-z]{3})\s*([^A-Za-z].*)/) {
            return typed(String(m.2)).map { ($0, m.1.uppercased()) }
        }
        // After it: at once after a digit or sign, or past a space after a k or M (`1.2M EUR`).
        if let m = t.wholeMatch(of: /(.*[^A-Za-z\s])\s*([A-Za-z]{3})/) ?? t.wholeMatch(of: /(.*[0-9]\s*[kKmM])\s+([A-Za-z]{3})/) {
            return typed(String(m.1)).map { ($0, m.2.uppercased()) }
        }
        return typed(t).map { ($0, nil) }
    }

    /// The same number with exactly `newScale` digits after the point; nil when that would
    /// drop non-zero digits or overflow.
    public func rescaled(to newScale: UInt8) -> ExactDecimal? {
        if newScale == scale { return self }
        if newScale > scale {
            var u = units
            for _ in 0..<(newScale - scale) {
                let (m, o) = u.multipliedReportingOverflow(by: 10)
                if o || m.magnitude > UInt64(ExactDecimal.maxUnits) { return nil }
                u = m
            }
            return ExactDecimal(units: u, scale: newScale)
        }
        var u = units
        for _ in 0..<(scale - newScale) {
            if u % 10 != 0 { return nil }
            u /= 10
        }
        return ExactDecimal(units: u, scale: newScale)
    }

    public var description: String { ASCIIWriter.string { $0.decimal(units: units, scale: scale) } }

    /// The same number without the zeros at the end of its fraction (`15.00` as `15`, `12.50`
    /// as `12.5`): for a reader, never for the canonical form.
    public var trimmed: ExactDecimal {
        var (u, s) = (units, scale)
        while s > 0, u % 10 == 0 { (u, s) = (u / 10, s - 1) }
        return ExactDecimal(units: u, scale: s)
    }

    /// A percentage as people type it: a number (`ExactDecimal.typed`) with `%` or `％` after
    /// it, a space between or not (`40%`, `12.5 %`); or in tenths as a Chinese rep gives a
    /// chance, `六成` / `6成` (60), `七成半` (75), up to `十成`. Nil for anything else.
    public static func typedPercent(_ text: String) -> ExactDecimal? {
        let t = text.trimmingSpaces
        if let m = t.wholeMatch(of: /(.+?)\s*成(半)?/), let n = CivilDate.chineseCount(String(m.1)), n <= 10, m.2 == nil || n < 10 {
            return ExactDecimal(units: Int64(n * 10 + (m.2 == nil ? 0 : 5)), scale: 0)
        }
        guard t.last == "%" || t.last == "％" else { return nil }
        return typed(String(t.dropLast()))
    }

    /// Numeric order, whatever the scales.
    public static func < (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        compare(lhs, rhs) < 0
    }

    /// -1, 0 or 1.
    public static func compare(_ a: ExactDecimal, _ b: ExactDecimal) -> Int {
        let target = max(a.scale, b.scale)
        // A value that overflows Int64 when rescaled is larger in magnitude than the other,
        // which fits: its sign decides.
        guard let x = a.rescaled(to: target) else { return a.units < 0 ? -1 : 1 }
        guard let y = b.rescaled(to: target) else { return b.units < 0 ? 1 : -1 }
        return x.units < y.units ? -1 : (x.units == y.units ? 0 : 1)
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

// MARK: - Civil date

/// A calendar date (proleptic Gregorian), stored as days since 1970-01-01.
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var daysSinceEpoch: Int32

    /// 0001-01-01 through 9999-12-31, in days since 1970-01-01 (merge-semantics.md §1.1).
    public static let range: ClosedRange<Int32> = -719_162...2_932_896

    public init(daysSinceEpoch: Int32) { self.daysSinceEpoch = daysSinceEpoch }

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), (1...CivilDate.daysIn(month: month, year: year)).contains(day) else { return nil }
        self.daysSinceEpoch = Int32(CivilDate.days(year: year, month: month, day: day))
    }

    /// Parses `YYYY-MM-DD`.
    public init(parsing text: String) throws(ValueError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
            let date = CivilDate(year: y, month: m, day: d)
        else { throw ValueError("not a date (YYYY-MM-DD): \(text)") }
        self = date
    }

    public var components: (year: Int, month: Int, day: Int) { CivilDate.civil(fromDays: Int(daysSinceEpoch)) }

    /// A date as people type it, relative to `today`: `YYYY-MM-DD`, or `YYYY/MM/DD`,
    /// `YYYY.M.D`, `2026年12月5日`; a month and day alone (`12-05`, `12/5`, `12月5日`), in the year
    /// that puts it nearest `today` (`1-15` typed in December is next January's, `11-30` last
    /// week's); `today`, `tomorrow`, `yesterday`, `今天`, `明天`, `后天`, `昨天`; a day of the week
    /// (`周五`, `下周一`, `friday`: `weekday`). Nil for anything else. Stored and sent as a date
    /// like any other: only the typing is loose.
    public static func typed(_ text: String, today: CivilDate) -> CivilDate? {
        let t = text.trimmingSpaces.lowercased()
        if let exact = try? CivilDate(parsing: t) { return exact }
        let offsets: [String: Int32] = ["today": 0, "今天": 0, "tomorrow": 1, "明天": 1, "后天": 2, "yesterday": -1, "昨天": -1]
        if let days = offsets[t] { return CivilDate(daysSinceEpoch: today.daysSinceEpoch + days) }
        if let m = t.wholeMatch(of: /([0-9]{4})[\/.年-]([0-9]{1,2})[\/.月-]([0-9]{1,2})日?/), let y = Int(m.1), let mo = Int(m.2), let d = Int(m.3) {
            return CivilDate(year: y, month: mo, day: d)
        }
        if let m = t.wholeMatch(of: /([0-9]{1,2})[\/.月-]([0-9]{1,2})日?/), let mo = Int(m.1), let d = Int(m.2) {
            let year = today.components.year
            let candidates = [year - 1, year, year + 1].compactMap { CivilDate(year: $0, month: mo, day: d) }
            return candidates.min { abs($0.daysSinceEpoch - today.daysSinceEpoch) < abs($1.daysSinceEpoch - today.daysSinceEpoch) }
        }
        return weekday(t, today: today) ?? relative(t, today: today)
    }

    /// A day counted from today as people say a due date: `3天后`, `三天后`, `两周后`, `1个月后`,
    /// `大后天`, `in 3 days`, `in 2 weeks`, `in a month`; the month's last day, `月底` / `end of
    /// month` (`下月底` / `end of next month`); the quarter's, `季度末` / `end of quarter` (`下季度末`);
    /// the year's, `年底` / `end of year` (`明年年底`). A month on lands on the same day of the
    /// month, or on the month's last when it has no such day.
    static func relative(_ t: String, today: CivilDate) -> CivilDate? {
        func days(_ n: Int) -> CivilDate? {
            n.magnitude <= 100_000 ? CivilDate(daysSinceEpoch: today.daysSinceEpoch + Int32(n)) : nil
        }
        // `n` months on: the same day of the month (or the month's last), or the last day itself.
        func months(_ n: Int, lastDay: Bool = false) -> CivilDate? {
            guard n.magnitude <= 12_000 else { return nil }
            let (y, m, d) = today.components
            let index = y * 12 + (m - 1) + n
            let (year, month) = (index / 12, index % 12 + 1)
            let last = daysIn(month: month, year: year)
            return CivilDate(year: year, month: month, day: lastDay ? last : min(d, last))
        }
        // The last day of this quarter (Q4: December 31), or of a quarter `n` on.
        func quarterEnd(_ n: Int) -> CivilDate? { months((2 - (today.components.month - 1) % 3) + 3 * n, lastDay: true) }
        // December 31 of this year, or of the next.
        func yearEnd(_ n: Int) -> CivilDate? { CivilDate(year: today.components.year + n, month: 12, day: 31) }
        switch t {
        case "大后天": return days(3)
        case "月底", "本月底", "这个月底", "月末", "本月末", "end of month", "end of the month", "month end": return months(0, lastDay: true)
        case "下月底", "下个月底", "下月末", "下个月末", "end of next month": return months(1, lastDay: true)
        // A close date as sales people give it: the quarter's end, the year's.
        case "季末", "季度末", "本季度末", "这个季度末", "本季末", "end of quarter", "end of the quarter", "quarter end", "eoq": return quarterEnd(0)
        case "下季末", "下季度末", "下个季度末", "end of next quarter": return quarterEnd(1)
        case "年底", "年末", "今年年底", "今年底", "end of year", "end of the year", "year end", "eoy": return yearEnd(0)
        case "明年年底", "明年底", "明年年末", "end of next year": return yearEnd(1)
        default: break
        }
        if let m = t.wholeMatch(of: /(.+?)\s*(天|日|周|个星期|星期|个礼拜|礼拜|个月)后/), let n = chineseCount(String(m.1)) {
            switch m.2 {
            case "天", "日": return days(n)
            case "个月": return months(n)
            default: return days(7 * n)
            }
        }
        if let m = t.wholeMatch(of: /in\s+([0-9]+|an?)\s+(day|days|week|weeks|month|months)/) {
            let n = Int(m.1) ?? 1
            switch m.2 {
            case "day", "days": return days(n)
            case "week", "weeks": return days(7 * n)
            default: return months(n)
            }
        }
        return nil
    }

    /// A count as written before 天后: a whole number as an amount is typed (`3`, `３`:
    /// `ExactDecimal.typed`), not less than 0, or Chinese numerals up to 九十九 (`三`, `两`, `十`,
    /// `十五`, `二十`).
    static func chineseCount(_ text: String) -> Int? {
        if let d = ExactDecimal.typed(text) {
            guard let n = d.rescaled(to: 0)?.units, n >= 0 else { return nil }
            return Int(n)
        }
        let values: [Character: Int] = ["一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9]
        if text.count == 1, let n = values[text.first!] { return n }
        guard let ten = text.firstIndex(of: "十"), text.filter({ $0 == "十" }).count == 1 else { return nil }
        let before = text[..<ten], after = text[text.index(after: ten)...]
        guard before.count <= 1, after.count <= 1 else { return nil }
        let tens = before.isEmpty ? 1 : values[before.first!]
        let ones = after.isEmpty ? 0 : values[after.first!]
        guard let tens, let ones else { return nil }
        return tens * 10 + ones
    }

    /// A day of the week as people name a due date: `周五`, `星期五`, `礼拜五`, `friday`, `fri` — the
    /// next Friday, today if it is one; `本周五`, `这周五` — this week's (weeks begin on
    /// Monday); `下周五`, `下个星期五`, `next friday` — next week's; `下下周三` — the week after's;
    /// `上周五`, `last friday` — last week's (a report's `--from`), `上上周五` the week before's.
    static func weekday(_ t: String, today: CivilDate) -> CivilDate? {
        let chinese: [Character: Int32] = ["一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7]
        let english: [String: Int32] = [
            "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6, "sunday": 7,
            "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7,
        ]
        var rest = Substring(t)
        // nil: the next such day; 0: this week's; 1: next week's; -1: last week's; 2, -2 the
        // weeks after and before those (longer prefixes first: 下下 before 下).
        var week: Int32?
        for (prefix, w) in [
            ("下下个", Int32(2)), ("下下", 2), ("下个", 1), ("下", 1), ("上上个", -2), ("上上", -2), ("上个", -1), ("上", -1), ("本", 0), ("这个", 0), ("这", 0), ("next ", 1), ("this ", 0),
            ("last ", -1),
        ]
        where rest.hasPrefix(prefix) {
            week = w
            rest = rest.dropFirst(prefix.count)
            break
        }
        var day = english[String(rest)]
        for name in ["星期", "礼拜", "周"] where day == nil && rest.hasPrefix(name) && rest.count == name.count + 1 {
            day = rest.last.flatMap { chinese[$0] }
        }
        guard let day else { return nil }
        let now = today.weekday
        let offset: Int32 =
            switch week {
            case nil: (day - now + 7) % 7
            case let w?: day - now + 7 * w
            }
        return CivilDate(daysSinceEpoch: today.daysSinceEpoch + offset)
    }

    /// The day of the week, 1 (Monday) through 7 (Sunday): 1970-01-01 was a Thursday.
    public var weekday: Int32 { ((daysSinceEpoch % 7 + 7) % 7 + 3) % 7 + 1 }

    /// Total over every Int32 (a stored value outside the range still prints).
    public var description: String { CivilDate.text(days: Int64(daysSinceEpoch)) }

    /// `YYYY-MM-DD` of any day count: Int arithmetic, no narrowing, so no input traps.
    static func text(days: Int64) -> String { ASCIIWriter.string { $0.date(days: days) } }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

// MARK: - Timestamp

/// An instant in milliseconds since 1970-01-01T00:00:00Z; canonical text
/// `2026-11-29T01:43:48.123Z`.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// 0001-01-01T00:00:00.000Z through 9999-12-31T23:59:59.999Z (merge-semantics.md §1.1).
    public static let range: ClosedRange<Int64> =
        Int64(CivilDate.range.lowerBound) * 86_400_000...(Int64(CivilDate.range.upperBound) + 1) * 86_400_000 - 1

    /// Parses `YYYY-MM-DDTHH:MM:SS[.sss]Z`.
    public init(parsing text: String) throws(ValueError) {
        let bad = ValueError("not a UTC timestamp (YYYY-MM-DDTHH:MM:SS[.sss]Z): \(text)")
        guard text.hasSuffix("Z"), let t = text.firstIndex(of: "T") else { throw bad }
        let date: CivilDate
        do { date = try CivilDate(parsing: String(text[..<t])) } catch { throw bad }
        let clock = text[text.index(after: t)..<text.index(before: text.endIndex)]
        let secParts = clock.split(separator: ".", omittingEmptySubsequences: false)
        guard secParts.count <= 2 else { throw bad }
        let hms = secParts[0].split(separator: ":", omittingEmptySubsequences: false)
        guard hms.count == 3, hms.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) }),
            let h = Int(hms[0]), let m = Int(hms[1]), let s = Int(hms[2]), h < 24, m < 60, s < 60
        else { throw bad }
        var ms = 0
        if secParts.count == 2 {
            let f = secParts[1]
            guard (1...3).contains(f.count), f.allSatisfy(\.isASCIIDigit), let v = Int(f) else { throw bad }
            ms = v * [100, 10, 1][f.count - 1]
        }
        milliseconds = Int64(date.daysSinceEpoch) * 86_400_000 + Int64(h * 3_600_000 + m * 60_000 + s * 1000 + ms)
    }

    /// The calendar date of this instant in UTC (clamped to the date range: an instant outside
    /// it has no calendar date a report could use, and must not trap).
    public var date: CivilDate {
        let day = floorDiv(milliseconds, 86_400_000)
        return CivilDate(daysSinceEpoch: Int32(min(max(day, Int64(CivilDate.range.lowerBound)), Int64(CivilDate.range.upperBound))))
    }

    /// The calendar date of this instant on a clock `offsetSeconds` east of UTC (what day it is
    /// for a reader there: in Beijing, 07:00 on the 5th is still the 4th in UTC).
    public func date(offsetSeconds: Int) -> CivilDate { shifted(bySeconds: offsetSeconds).date }

    /// The same wall-clock reading `seconds` later (saturating: never traps).
    func shifted(bySeconds seconds: Int) -> Timestamp {
        let (ms, over) = Int64(clamping: seconds).multipliedReportingOverflow(by: 1000)
        guard !over else { return self }
        let (sum, overflow) = milliseconds.addingReportingOverflow(ms)
        return overflow ? self : Timestamp(milliseconds: sum)
    }

    /// Total over every Int64 (a stored value outside the range still prints).
    public var description: String { ASCIIWriter.string { $0.instant(milliseconds: milliseconds) } }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

public extension Unicode.Scalar {
    /// A character a terminal or log viewer may act on rather than show: a C0 control, DEL or a
    /// C1 control (U+009B starts an escape sequence in some terminals). A text field keeps none
    /// but line breaks and tabs (`Value.plainText`); the hub's log escapes every one.
    var isControlCharacter: Bool { value < 0x20 || (0x7F...0x9F).contains(value) }

    /// A bidirectional embedding, override or isolate, or the end of one: what could make a name
    /// reverse the text after it on a line. `opps` shows it as � in a terminal
    /// (`String.terminalSafe`) and the web app in a page.
    var isBidiControl: Bool { (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value) }
}
