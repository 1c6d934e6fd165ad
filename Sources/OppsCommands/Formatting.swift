import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// A deal's amount as people read it: `1,480,000.50 CNY` (empty without one).
func amountText(_ deal: Record) -> String {
    deal["amount"].isNull ? "" : groupedAmount(deal["amount"].canonicalText) + (deal["currency"].isNull ? "" : " " + deal["currency"].canonicalText)
}

/// "1234567.50" → "1,234,567.50": an exact decimal's text with thousands separators.
func groupedAmount(_ text: String) -> String {
    let negative = text.hasPrefix("-")
    let body = negative ? String(text.dropFirst()) : text
    let parts = body.split(separator: ".", maxSplits: 1)
    guard let whole = parts.first, let n = Int(whole) else { return text }
    return (negative ? "-" : "") + grouped(n) + (parts.count > 1 ? "." + parts[1] : "")
}

/// 1234567 → "1,234,567".
func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}

/// `2026-11-30 01:44`: a device time to the minute, UTC.
func minuteText(_ milliseconds: Int64) -> String {
    String(Timestamp(milliseconds: milliseconds).description.prefix(16)).replacingOccurrences(of: "T", with: " ")
}

/// The device's wall-clock instant, or a fixed one given on the command line.
func deviceNow() -> Timestamp { Timestamp(milliseconds: SystemClock().nowMilliseconds()) }

/// A deal named by id or prefix; anything else is bad input.
func dealID(_ r: Replica, _ id: String) throws -> RecordID {
    let deal = try r.resolveID(id)
    guard try r.record(deal)?.entity == "opportunity" else { throw ReplicaError.invalid("\(id) is not a deal") }
    return deal
}
