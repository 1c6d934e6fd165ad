/// Terminal columns, not characters: East Asian wide and fullwidth characters (汉字, かな, 한글,
/// fullwidth forms, most emoji) take two columns, combining marks none. Every table `opps`
/// prints pads and cuts with these, so "华为云 试点" does not push the next column right.
public extension String {
    /// The columns this text takes in a terminal.
    var displayWidth: Int { reduce(0) { $0 + $1.displayWidth } }

    /// Padded with spaces on the right to `width` columns (unchanged when already as wide).
    func padding(_ width: Int) -> String {
        let w = displayWidth
        return w >= width ? self : self + String(repeating: " ", count: width - w)
    }

    /// Padded with spaces on the left to `width` columns.
    func leftPad(_ width: Int) -> String {
        let w = displayWidth
        return w >= width ? self : String(repeating: " ", count: width - w) + self
    }

    /// The longest prefix that fits in `width` columns.
    func prefix(columns width: Int) -> String {
        var out = "", used = 0
        for c in self {
            let w = c.displayWidth
            if used + w > width { break }
            out.append(c)
            used += w
        }
        return out
    }
}

public extension Character {
    /// 2 for wide and fullwidth, 0 for a lone combining mark, a line break or a tab, else 1 (any
    /// other control character is shown as its one-column stand-in: `String.terminalSafe`).
    var displayWidth: Int {
        // ASCII without asking Unicode's tables (most of what is printed; a report of 100,000
        // lines spent a fifth of its time there): a line break or tab 0, anything else 1.
        if let ascii = asciiValue { return ascii == 0x0A || ascii == 0x09 ? 0 : 1 }
        guard let first = unicodeScalars.first else { return 0 }
        if first.properties.generalCategory == .nonspacingMark || self == "\n" || self == "\t" || self == "\r\n" { return 0 }
        return unicodeScalars.contains { Self.isWide($0.value) } ? 2 : 1
    }

    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
            0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            true
        default:
            false
        }
    }
}

/// Fits text into `width` columns: cut with an ellipsis, or padded.
public func fit(_ s: String, _ width: Int) -> String {
    guard width > 0 else { return "" }
    if s.displayWidth <= width { return s.padding(width) }
    // Padded too: a wide character that does not fit leaves the cut a column short.
    return (s.prefix(columns: width - 1) + "…").padding(width)
}

/// Cut to `width` columns with an ellipsis when wider; never padded (a table cell: `table` pads).
public func cut(_ s: String, _ width: Int) -> String { s.displayWidth <= width ? s : fit(s, width) }

public extension String {
    /// This text broken into lines of at most `width` columns (a line break in it starts a new
    /// one): between words, and between any two Chinese characters except before closing
    /// punctuation or after opening punctuation (「现值：」 never starts a line with `）`), nor on
    /// either side of `=` (`负责人=bob` stays whole). A word wider than `width` keeps its own line.
    func wrapped(width: Int) -> [String] {
        components(separatedBy: "\n").flatMap { Self.wrapLine($0, width: width) }
    }

    private static let closing = Set("，。、；：！？）」』》…%％")
    private static let opening = Set("（「『《")

    private static func wrapLine(_ text: String, width: Int) -> [String] {
        // Units no break falls inside, each with whether a space comes before it.
        var units: [(text: String, spaced: Bool)] = []
        var current = "", spaced = false, open = false
        func finish() {
            guard !current.isEmpty else { return }
            units.append((current, spaced))
            current = ""
            spaced = false
            open = false
        }
        for c in text {
            if c == " " {
                finish()
                spaced = true
            } else if closing.contains(c) {
                // Onto the unit before, even across a space it follows.
                if current.isEmpty, let last = units.popLast() { (current, spaced) = last }
                current.append(c)
                finish()
            } else if c == "=", !current.isEmpty || !spaced {
                // An assignment is one word (`负责人=bob`, `赢率=40%`): no break on either side,
                // nor inside the label before it (back to a space or punctuation, six at most).
                if current.isEmpty, let last = units.popLast() {
                    (current, spaced) = last
                    var taken = 1
                    while !spaced, taken < 6, let prev = units.last, prev.text.count <= 2, let ch = prev.text.last, ch.displayWidth == 2,
                        !closing.contains(ch), !opening.contains(ch)
                    {
                        units.removeLast()
                        (current, spaced) = (prev.text + current, prev.spaced)
                        taken += 1
                        if let first = prev.text.first, opening.contains(first) { break }
                    }
                }
                current.append(c)
                open = true
            } else if opening.contains(c) {
                if !open { finish() }
                current.append(c)
                open = true
            } else if c.displayWidth == 2 {
                if !open { finish() }
                current.append(c)
                finish()
            } else {
                open = false
                current.append(c)
            }
        }
        finish()
        // Each unit's width once, and the line's as it grows (a long report printed 100,000
        // lines; measuring the line again for every unit made each line's cost its length squared).
        let widths = units.map { $0.text.displayWidth }
        var lines: [String] = []
        var line: [(text: String, spaced: Bool)] = [], lineWidths: [Int] = [], lineWidth = 0
        func joined(_ units: some Collection<(text: String, spaced: Bool)>) -> String {
            units.enumerated().map { i, u in (i > 0 && u.spaced ? " " : "") + u.text }.joined()
        }
        /// The width of the line's units from `start` on, as `joined` writes them.
        func measure(from start: Int) -> Int {
            (start..<line.count).reduce(0) { $0 + lineWidths[$1] + ($1 > start && line[$1].spaced ? 1 : 0) }
        }
        for (unit, unitWidth) in zip(units, widths) {
            let gap = unit.spaced && !line.isEmpty ? 1 : 0
            if !line.isEmpty, lineWidth + gap + unitWidth > width {
                // A break between two Chinese characters may fall inside a word (`，执` / `行人`):
                // one at a clause's end or a space within the line's last few columns reads
                // better, the few characters after it going down with the unit that did not fit.
                let clean = unit.spaced || line[line.count - 1].text.last.map(closing.contains) == true
                let cut =
                    clean
                    ? nil
                    : line.indices.dropFirst().last { i in
                        (line[i].spaced || line[i - 1].text.last.map(clauseEnd.contains) == true)
                            && measure(from: i) <= Self.carried && i > line.count / 2
                    }
                if let cut, measure(from: cut) + gap + unitWidth <= width {
                    lines.append(joined(line[..<cut]))
                    line = Array(line[cut...]) + [unit]
                    lineWidths = Array(lineWidths[cut...]) + [unitWidth]
                    lineWidth = measure(from: 0)
                } else {
                    lines.append(joined(line))
                    (line, lineWidths, lineWidth) = ([unit], [unitWidth], unitWidth)
                }
            } else {
                line.append(unit)
                lineWidths.append(unitWidth)
                lineWidth += gap + unitWidth
            }
        }
        lines.append(joined(line))
        return lines
    }

    /// Punctuation that ends a clause: a line is best broken after it.
    private static let clauseEnd = Set("，。、；：！？")
    /// How far back (in columns) a line may be broken at a clause's end or a space instead.
    private static let carried = 6
}

/// `head`, then `text` wrapped beside it to the terminal's width, each further line under the
/// first (a timeline event, a field's value, an agenda item).
public func hanging(_ head: String, _ text: String, width: Int = Console.width) -> String {
    let indent = "\n" + String(repeating: " ", count: head.displayWidth)
    return head + text.wrapped(width: max(20, width - head.displayWidth)).joined(separator: indent)
}

/// A sentence that ends in a command (`进入「方案」前先补上：opps set 3e0rbr52 金额=…`), indented by
/// `indent`: a long one continues under its command, not under the sentence's start.
/// The command is broken only between its words (`预计成交日期=YYYY-MM-DD` stays whole).
public func commandHanging(_ line: String, indent: String = "", width: Int = Console.width) -> String {
    let command = line.range(of: "opps ")?.lowerBound ?? line.startIndex
    let head = indent + line[..<command]
    let room = max(20, width - head.displayWidth)
    var lines: [String] = []
    var current = ""
    for word in line[command...].split(separator: " ", omittingEmptySubsequences: false) {
        if !current.isEmpty, current.displayWidth + 1 + String(word).displayWidth > room {
            lines.append(current)
            current = String(word)
        } else {
            current += (current.isEmpty ? "" : " ") + word
        }
    }
    lines.append(current)
    return head + lines.joined(separator: "\n" + String(repeating: " ", count: head.displayWidth))
}

/// A command's usage line wrapped to `width` columns: broken between its words (an optional
/// `[--x <x>]` or `<name> ...` stays whole), the lines after the first indented by two.
public enum Usage {
    /// A usage line broken only between its top-level words, so `[--home <home>]` stays whole;
    /// every line after the first indented by two.
    public static func wrap(_ text: String, width: Int) -> [String] {
        var words: [String] = []
        var word = "", depth = 0
        for c in text {
            if c == " ", depth == 0 {
                if !word.isEmpty { words.append(word) }
                word = ""
                continue
            }
            if c == "[" || c == "<" { depth += 1 }
            if c == "]" || c == ">" { depth = max(0, depth - 1) }
            word.append(c)
        }
        if !word.isEmpty { words.append(word) }
        // `<duplicates> ...` is one word too.
        words = words.reduce(into: []) { all, w in
            if w == "...", let last = all.popLast() { all.append(last + " ...") } else { all.append(w) }
        }
        var lines: [String] = []
        var line = ""
        for w in words {
            if !line.isEmpty, line.displayWidth + 1 + w.displayWidth > width {
                lines.append(line)
                line = "  " + w
            } else {
                line += (line.isEmpty ? "" : " ") + w
            }
        }
        lines.append(line)
        return lines
    }

    /// A help page with its `USAGE:` line wrapped to the terminal (the argument parser leaves
    /// it one line however long).
    public static func fitted(_ page: String, width: Int = Console.width) -> String {
        page.split(separator: "\n", omittingEmptySubsequences: false).map { (line: Substring) -> String in
            guard line.hasPrefix("USAGE: "), String(line).displayWidth > width else { return String(line) }
            return wrap(String(line), width: width).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

/// Rows (the first usually a header) as columns two spaces apart, each as wide as its widest cell
/// in terminal columns, the header's included: the columns in `right` (numbers) right-aligned,
/// so they end where their heading ends in either language; trailing spaces dropped.
public func table(_ rows: [[String]], right: Set<Int> = []) -> [String] {
    let widths = (0..<(rows.map(\.count).max() ?? 0)).map { i in rows.map { i < $0.count ? $0[i].displayWidth : 0 }.max() ?? 0 }
    return rows.map { row in
        var line = ""
        for (i, cell) in row.enumerated() { line += (i == 0 ? "" : "  ") + (right.contains(i) ? cell.leftPad(widths[i]) : cell.padding(widths[i])) }
        while line.hasSuffix(" ") { line.removeLast() }
        return line
    }
}
