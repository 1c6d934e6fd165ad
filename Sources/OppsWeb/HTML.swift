import OppsCore

/// Text made safe for HTML element content and quoted attribute values.
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
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

/// A query-string or form component, percent-encoded (RFC 3986 unreserved kept).
func urlComponent(_ s: String) -> String {
    var out = ""
    for b in s.utf8 {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(b))
        default:
            let hex = Array("0123456789ABCDEF".utf8)
            out += "%" + String(UnicodeScalar(hex[Int(b >> 4)])) + String(UnicodeScalar(hex[Int(b & 15)]))
        }
    }
    return out
}

/// An `application/x-www-form-urlencoded` body or query: `+` is a space, `%XX` a byte; later
/// duplicates win. Malformed escapes are kept as they are (the value is then checked as input).
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
    var bytes = [UInt8]()
    var u = Array(s.utf8)[...]
    while let c = u.first {
        u = u.dropFirst()
        if c == UInt8(ascii: "+") {
            bytes.append(UInt8(ascii: " "))
        } else if c == UInt8(ascii: "%"), u.count >= 2, let h = hexValue(u[u.startIndex]), let l = hexValue(u[u.startIndex + 1]) {
            bytes.append(h << 4 | l)
            u = u.dropFirst(2)
        } else {
            bytes.append(c)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// An amount as a person reads it: `1,250,000.00`.
func grouped(_ text: String) -> String {
    let negative = text.hasPrefix("-")
    let body = negative ? String(text.dropFirst()) : text
    let parts = body.split(separator: ".", maxSplits: 1)
    var whole = String(parts.first ?? "")
    var out = ""
    while whole.count > 3 {
        out = "," + whole.suffix(3) + out
        whole = String(whole.dropLast(3))
    }
    out = whole + out
    if parts.count > 1 { out += "." + parts[1] }
    return (negative ? "-" : "") + out
}
