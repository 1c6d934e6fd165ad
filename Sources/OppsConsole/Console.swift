import Foundation
import OppsCore

/// Where commands write. Normally stdout/stderr; tests capture it per task.
///
/// What it writes is inert: a control character in the text — from a stored value, a name, a
/// hub's message — is shown as a visible stand-in (`String.terminalSafe`), never sent to the
/// terminal to act on. The only control sequences a command emits are the ones below: a style
/// for a whole line (`out(_:style:)`) and a progress line's return and clear.
public enum Console {
    /// Captured output, when a test runs a command in-process.
    @TaskLocal public static var capture: OutputBuffer?

    public static func out(_ text: String) {
        let line = text.terminalSafe + "\n"
        if let c = capture { c.append(out: line) } else { write(line, to: .standardOutput) }
    }

    /// A whole line in a style, when stdout is a terminal that shows colours; else as `out`.
    public static func out(_ text: String, style: Style) {
        guard colours else { return out(text) }
        write(style.rawValue + text.terminalSafe + "\u{1B}[0m\n", to: .standardOutput)
    }

    /// The styles a line may have.
    public enum Style: String, Sendable {
        case bold = "\u{1B}[1m"
        case red = "\u{1B}[31m"
    }

    /// Shows `text` as the one progress line on stderr, in place of the last (a terminal only).
    public static func progress(_ text: String) {
        progressControl("\r" + text.terminalSafe + "\u{1B}[K")
    }

    /// Erases the progress line (a line that said what the command waited for, now done).
    public static func progressErase() {
        progressControl("\r\u{1B}[K")
    }

    /// Ends the progress line, leaving it on screen.
    public static func progressDone() {
        progressControl("\n")
    }

    /// To stderr as it is; captured only by a capture that plays a terminal.
    private static func progressControl(_ text: String) {
        if let c = capture {
            if c.terminal { c.append(err: text) }
            return
        }
        write(text, to: .standardError)
    }

    public static func err(_ text: String) {
        let line = text.terminalSafe + "\n"
        if let c = capture { c.append(err: line) } else { write(line, to: .standardError) }
    }

    /// A reader that went away (`opps list | head -3`) ends the command quietly, as any Unix
    /// tool does; `FileHandle.write(_:)` would crash with a backtrace instead.
    private static func write(_ text: String, to handle: FileHandle) {
        do { try handle.write(contentsOf: Data(text.utf8)) } catch { exit(0) }
    }

    /// True when stderr is a terminal (progress bars), or the capture plays one.
    public static var isTerminal: Bool { capture.map(\.terminal) ?? (isatty(2) == 1) }

    /// True when stdout is a terminal (colours) and nothing is captured; NO_COLOR turns colours off.
    public static var colours: Bool { capture == nil && isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }

    /// Columns of the terminal on stdout: the terminal's own width, else $COLUMNS, else 80.
    public static var width: Int {
        if capture == nil, isatty(1) == 1 {
            var size = winsize()
            if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        }
        if let c = ProcessEnvironment.value("COLUMNS").flatMap(Int.init), c > 20 { return c }
        return 80
    }
}

public extension String {
    /// This text as a terminal may be given it: each control character a terminal would act on
    /// (`Unicode.Scalar.isControlCharacter`: an escape, a carriage return that would overwrite
    /// the line, a bell, DEL, a C1 control) shown as a one-column stand-in — a C0 control and
    /// DEL as their Unicode control pictures (U+001B as ␛, U+000D as ␍), a C1 control as �.
    /// Line breaks, tabs and a CR LF's CR stay (CSV ends its lines with CR LF). A text field can
    /// no longer hold one (`Value.plainText`), but a value stored before that rule, a name or a
    /// hub's message still could.
    ///
    /// The bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) are
    /// shown as � too: a terminal that lays out right-to-left text (VTE does) would otherwise let a
    /// deal's name reverse the rest of its row — an amount of 1000 read as 0001.
    var terminalSafe: String {
        // Most text holds none: looked for byte by byte first (C1 controls start with 0xC2, the
        // bidirectional controls with 0xE2; a line break or tab is kept, so it does not count).
        guard utf8.contains(where: { ($0 < 0x20 && $0 != 0x0A && $0 != 0x09) || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 }) else { return self }
        let scalars = Array(unicodeScalars)
        var out = String.UnicodeScalarView()
        var changed = false
        for (i, c) in scalars.enumerated() {
            guard c.isControlCharacter || c.isBidiControl, c != "\n", c != "\t", !(c == "\r" && i + 1 < scalars.count && scalars[i + 1] == "\n") else {
                out.append(c)
                continue
            }
            changed = true
            out.append(c.terminalStandIn)
        }
        return changed ? String(out) : self
    }
}

extension Unicode.Scalar {
    /// What `terminalSafe` shows for this control character.
    var terminalStandIn: Unicode.Scalar {
        switch value {
        case 0..<0x20: Unicode.Scalar(0x2400 + value)!
        case 0x7F: "\u{2421}"
        default: "\u{FFFD}"
        }
    }
}

/// Output captured from an in-process command.
public final class OutputBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""
    /// Whether it plays a terminal on stderr: the progress line's control sequences are kept in
    /// `stderr` as a terminal would receive them (a test of what a rep sees while waiting).
    public let terminal: Bool

    public init(terminal: Bool = false) { self.terminal = terminal }

    func append(out s: String) { lock.lock(); outText += s; lock.unlock() }
    func append(err s: String) { lock.lock(); errText += s; lock.unlock() }

    public var stdout: String { lock.lock(); defer { lock.unlock() }; return outText }
    public var stderr: String { lock.lock(); defer { lock.unlock() }; return errText }
}

/// A mistyped command (issue 15 item 9: `opps lsit --home x` said "Unknown option '--home'"):
/// the command meant, by edit distance, so the message can say "did you mean list?".
public enum CommandSuggestion {
    /// The unknown command `arguments` starts with, if it starts with one (a word, not an option).
    public static func unknown(_ arguments: [String], known: [String]) -> String? {
        guard var first = arguments.first else { return nil }
        if first == "help" {
            // `help WORD` asks for a command too.
            guard arguments.count > 1 else { return nil }
            first = arguments[1]
        }
        guard !first.hasPrefix("-"), !known.contains(first) else { return nil }
        return first
    }

    /// The known word nearest to `word`, when it is near enough to be a typo.
    public static func closest(to word: String, among known: [String]) -> String? {
        let scored = known.map { ($0, distance(word.lowercased(), $0)) }.min { $0.1 < $1.1 }
        guard let (best, d) = scored, d <= max(1, word.count / 3) else { return nil }
        return best
    }

    /// `program` and `words` as one line to type into a shell, each word quoted where a shell
    /// needs it (a placeholder such as `<id>` is left as it is).
    public static func line(_ program: String, _ words: [String]) -> String {
        ([program] + words).map(word).joined(separator: " ")
    }

    /// One word as a shell needs it typed: as it is when it is plain (or a placeholder such as
    /// `<id>`), else in double quotes (a name with a space in it, `$` or a quote).
    public static func word(_ word: String) -> String {
        let plain = !word.isEmpty && !word.contains(where: { " \"'$`\\|&;<>()*?#~".contains($0) })
        let placeholder = word.hasPrefix("<") && word.hasSuffix(">") && !word.contains(" ")
        // Inside double quotes a shell still reads \ " $ and `: each is escaped.
        return plain || placeholder ? word : "\"" + word.map { "\\\"$`".contains($0) ? "\\\($0)" : String($0) }.joined() + "\""
    }

    /// Levenshtein distance, with a swap of two neighbours counting one (lsit → list).
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}

/// The environment `opps` and `opps-hub` read (OPPS_HOME, LANG). Tests pin it per task, as
/// they pin the clock: parallel tests share one process's environment.
public enum ProcessEnvironment {
    @TaskLocal public static var pinned: [String: String]?
    public static var current: [String: String] { pinned ?? ProcessInfo.processInfo.environment }
    /// One variable (without copying the whole environment: `Console.width` asks for every line).
    public static func value(_ name: String) -> String? {
        if let pinned { return pinned[name] }
        return getenv(name).map { String(cString: $0) }
    }
}

/// Exit codes both executables share.
public enum ExitStatus {
    /// Bad usage — an unknown command or option, a missing or malformed argument (EX_USAGE).
    public static let usage: Int32 = 64
}
