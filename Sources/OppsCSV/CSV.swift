/// CSV as RFC 4180 has it: records separated by CRLF (LF accepted), fields by commas, a field
/// quoted with `"` when it holds a comma, a quote or a line break, quotes doubled inside.
/// `opps export --csv` and the reports write it; `opps-hub import` reads it.
public enum CSV {
    /// One field as written: quoted only when it must be.
    public static func cell(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingAll("\"", with: "\"\"") + "\""
    }

    /// One record as written.
    public static func line(_ fields: [String]) -> String { fields.map(cell).joined(separator: ",") }

    /// A record read from a file, with the line it starts on (1-based).
    public struct Row: Sendable, Hashable {
        public var line: Int
        public var fields: [String]
    }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Reads every record. Blank lines are skipped; a UTF-8 byte-order mark is ignored.
    public static func parse(_ text: String) throws(ParseError) -> [Row] {
        var rows = [Row]()
        var fields = [String]()
        var field = ""
        var quoted = false  // inside quotes
        var wasQuoted = false  // this field was quoted (a quote may only follow its closing quote)
        var line = 1, start = 1
        var chars = Array(text.unicodeScalars)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !wasQuoted) { rows.append(Row(line: start, fields: fields)) }
            fields = []
            field = ""
            wasQuoted = false
        }
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" { field.unicodeScalars.append("\""); i += 2; continue }
                    quoted = false
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                i += 1
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty, !wasQuoted else {
                    throw ParseError(line: line, message: "a quote inside an unquoted field (quote the whole field and double the quote)")
                }
                quoted = true
                wasQuoted = true
            case ",":
                fields.append(field)
                field = ""
                wasQuoted = false
            case "\r":
                if i + 1 < chars.count, chars[i + 1] == "\n" { i += 1 }
                endRecord()
                line += 1
                start = line
            case "\n":
                endRecord()
                line += 1
                start = line
            default:
                guard !wasQuoted else { throw ParseError(line: line, message: "text after a closing quote") }
                field.unicodeScalars.append(c)
            }
            i += 1
        }
        if quoted { throw ParseError(line: start, message: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { endRecord() }
        return rows
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
