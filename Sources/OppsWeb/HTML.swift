import Foundation
import OppsCore

/// Text made safe for HTML element content and quoted attribute values. A bidirectional
/// embedding, override or isolate is shown as �, as `opps` shows it in a terminal
/// (`String.terminalSafe`): an override left open in a deal's name would reverse what follows
/// it on the board's line — its amount, 1000 read as 0001.
func esc(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case _ where c.isBidiControl: out += "\u{FFFD}"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

/// A query-string component, percent-encoded (RFC 3986 unreserved characters kept).
func urlComponent(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
}

private let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

/// An `application/x-www-form-urlencoded` body or query: `+` is a space, `%XX` a byte; later
/// duplicates win. A value with a malformed escape is kept as sent (then checked as input).
func formFields(_ text: Substring) -> [String: String] {
    var fields = [String: String]()
    for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let key = percentDecoded(parts[0])
        fields[key] = parts.count > 1 ? percentDecoded(parts[1]) : ""
    }
    return fields
}

func percentDecoded(_ s: Substring) -> String {
    let spaced = s.replacingOccurrences(of: "+", with: " ")
    return spaced.removingPercentEncoding ?? spaced
}
