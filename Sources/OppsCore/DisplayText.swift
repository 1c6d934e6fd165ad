/// How figures read for a person, the same in the terminal and in the browser.

/// "1234567.50" → "1,234,567.50": an exact decimal's text with thousands separators.
public func groupedAmount(_ text: String) -> String {
    let negative = text.hasPrefix("-")
    let body = negative ? String(text.dropFirst()) : text
    let parts = body.split(separator: ".", maxSplits: 1)
    guard let whole = parts.first, let n = Int(whole) else { return text }
    return (negative ? "-" : "") + grouped(n) + (parts.count > 1 ? "." + parts[1] : "")
}

extension String {
    /// A name as a search compares it: `lookupFolded` without its spaces, so `华为云` finds
    /// "华为 云迁移" (Chinese is typed without the spaces a colleague may have put in a name).
    public var searchFolded: String { lookupFolded.filter { $0 != " " } }

    /// A name as it is compared when someone types it: in lower case, a full-width (U+3000) or
    /// no-break space as a space, runs of spaces as one, none at either end, and no zero-width
    /// character (U+200B–U+200D, U+2060, U+FEFF; a name pasted from a chat or a web page
    /// carries them unseen). `华东　试点` and `华东  试点` find "华东 试点".
    public var lookupFolded: String {
        var out = String.UnicodeScalarView()
        var space = false
        for c in lowercased().unicodeScalars {
            switch c.value {
            case 0x200B...0x200D, 0x2060, 0xFEFF: continue
            case 0x20, 0xA0, 0x3000, 0x09:
                space = !out.isEmpty
            default:
                if space { out.append(" ") }
                space = false
                out.append(c)
            }
        }
        return String(out)
    }
}

/// Who wrote or made something, as a reader reads it: a user by name, the hub's own writes (an
/// owner it assigned, a request it unlocked, records an import made) as the hub's; a name the
/// hub withheld from this reader (visibility.md §6) as someone.
public func authorName(_ user: UserName, chinese: Bool) -> String {
    if user == BatchDecider.systemAuthor { return chinese ? "服务器" : "the hub" }
    if user == Workspace.withheldName { return chinese ? "有人" : "someone" }
    return user
}

/// A name as the subject of a sentence, with the space before its verb where one goes: `lin 驳回了`
/// but `服务器驳回了` (Chinese words are not spaced; a Latin name is set off from them).
public func spokenSubject(_ who: String, chinese: Bool) -> String {
    chinese && !(who.last.map { $0.isASCII } ?? false) ? who : who + " "
}

/// A count and its noun in English, the noun's plural unless one: `counted(1, "deal")` is
/// "1 deal", `counted(1200, "row")` "1,200 rows" (never "row(s)").
public func counted(_ n: Int, _ noun: String, plural: String? = nil) -> String {
    "\(grouped(n)) " + (n == 1 ? noun : plural ?? noun + "s")
}

/// 1234567 → "1,234,567".
public func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}

/// `2026-11-30 01:44`: an instant to the minute, on a clock `offsetSeconds` east of UTC (the
/// reader's: `LocalTime` finds it at the edge; 0 is UTC).
public func minuteText(_ milliseconds: Int64, offsetSeconds: Int = 0) -> String {
    let shifted = Timestamp(milliseconds: milliseconds).shifted(bySeconds: offsetSeconds)
    return String(shifted.description.prefix(16).map { $0 == "T" ? " " : $0 })
}

/// A duration as a reader reads it, to the minute under an hour, to the minute under a day, to
/// the hour beyond: `45 min`, `5h 12m`, `4d 8h` (`45分钟`, `5小时12分`, `4天8小时`). For tables
/// people read; what a program reads keeps the exact figure (`hoursText`).
public func durationText(milliseconds: Int64, chinese: Bool) -> String {
    let negative = milliseconds < 0
    let minutes = (abs(milliseconds) + 30_000) / 60_000
    let sign = negative ? "-" : ""
    if minutes < 60 { return sign + (chinese ? "\(minutes)分钟" : "\(minutes) min") }
    if minutes < 24 * 60 {
        let (h, m) = (minutes / 60, minutes % 60)
        return sign + (chinese ? "\(h)小时" + (m > 0 ? "\(m)分" : "") : "\(h)h" + (m > 0 ? " \(m)m" : ""))
    }
    let hours = (minutes + 30) / 60
    let (d, h) = (hours / 24, hours % 24)
    return sign + (chinese ? "\(d)天" + (h > 0 ? "\(h)小时" : "") : "\(d)d" + (h > 0 ? " \(h)h" : ""))
}
