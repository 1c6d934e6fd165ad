import Foundation

/// Where commands write. Normally stdout/stderr; tests capture it per task.
public enum Console {
    /// Captured output, when a test runs a command in-process.
    @TaskLocal public static var capture: OutputBuffer?

    public static func out(_ text: String) {
        if let c = capture { c.append(out: text + "\n") } else { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
    }

    /// Writes without a newline (progress lines).
    public static func progress(_ text: String) {
        if capture != nil { return }
        FileHandle.standardError.write(Data(text.utf8))
    }

    public static func err(_ text: String) {
        if let c = capture { c.append(err: text + "\n") } else { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    /// True when stderr is a terminal (progress bars) and nothing is captured.
    public static var isTerminal: Bool { capture == nil && isatty(2) == 1 }

    /// True when stdout is a terminal (colours) and nothing is captured; NO_COLOR turns colours off.
    public static var colours: Bool { capture == nil && isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }

    /// Columns of the terminal on stdout: the terminal's own width, else $COLUMNS, else 80.
    public static var width: Int {
        if capture == nil, isatty(1) == 1 {
            var size = winsize()
            if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        }
        if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 20 { return c }
        return 80
    }
}

/// Output captured from an in-process command.
public final class OutputBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""

    public init() {}

    func append(out s: String) { lock.lock(); outText += s; lock.unlock() }
    func append(err s: String) { lock.lock(); errText += s; lock.unlock() }

    public var stdout: String { lock.lock(); defer { lock.unlock() }; return outText }
    public var stderr: String { lock.lock(); defer { lock.unlock() }; return errText }
}
