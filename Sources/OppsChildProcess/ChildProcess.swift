import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A program run as a child process, started with `posix_spawn` and waited for with `waitpid`:
/// the hubs the simulator and the tests start, HAProxy, the browser `opps web --open` starts.
///
/// Not Foundation's `Process`: its `run()` lists `/proc/self/fd` to find the descriptors to
/// close in the child, and crashed there in the test runner (SIGSEGV in
/// `findMaximumOpenFromProcSelfFD`) while the hubs of the tests running beside it opened and
/// closed some 3,000 descriptors; its `waitUntilExit` was seen to hang. Both ended CI runs (the
/// sixty-first session found the simulator's hub processes still started with it). Here the
/// child closes every descriptor from 3 up in one step (`closefrom`), after taking its standard
/// input from /dev/null and its output as asked, and starts with no signal blocked or ignored.
public final class ChildProcess: @unchecked Sendable {
    /// Where the child's standard output or error goes.
    public enum Output: Sendable {
        case discard, capture, inherit
        /// Appended to the file at this path (made if missing).
        case append(String)
    }

    public let processIdentifier: pid_t
    /// The child's standard output, when captured (`readLine`, `readDataToEndOfFile`).
    public let standardOutput: FileHandle?
    /// The child's standard error, when captured.
    public let standardError: FileHandle?
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `executable` with `arguments`; `environment` nil passes this process's own.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, standardOutput out: Output = .discard,
        standardError err: Output = .discard
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var parentEnds = [Int32](), childEnds = [Int32]()
        defer { for fd in childEnds { close(fd) } }
        func route(_ output: Output, to target: Int32) throws -> FileHandle? {
            switch output {
            case .inherit: return nil
            case let .append(path):
                posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
                return nil
            case .discard:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
                return nil
            case .capture:
                var ends: [Int32] = [0, 0]
                guard pipe(&ends) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
                parentEnds.append(ends[0])
                childEnds.append(ends[1])
                posix_spawn_file_actions_adddup2(&actions, ends[1], target)
                return FileHandle(fileDescriptor: ends[0], closeOnDealloc: true)
            }
        }
        standardOutput = try route(out, to: 1)
        standardError = try route(err, to: 2)
        _ = Self.addCloseFrom?(&actions, 3)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for e in envp ?? [] { free(e) } }
        // Signals as a new program expects them: none blocked, each at its default (a test
        // runner may block or ignore some, which a child would otherwise inherit).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result =
            envp.map { posix_spawn(&pid, executable, &actions, &attributes, argv, $0) } ?? posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            for fd in parentEnds { close(fd) }
            throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EIO, userInfo: [NSLocalizedDescriptionKey: "cannot run \(executable)"])
        }
        processIdentifier = pid
    }

    /// Whether the child has not exited yet (a child that has is reaped here).
    public var isRunning: Bool {
        lock.withLock {
            if status != nil { return false }
            var raw: Int32 = 0
            guard waitpid(processIdentifier, &raw, WNOHANG) == processIdentifier else { return true }
            status = Self.decode(raw)
            return false
        }
    }

    /// Asks the child to stop (SIGTERM).
    public func terminate() {
        if isRunning { Foundation.kill(processIdentifier, SIGTERM) }
    }

    /// Ends the child at once (SIGKILL) if it is still running, and waits for it.
    public func kill() {
        if isRunning { Foundation.kill(processIdentifier, SIGKILL) }
        waitUntilExit()
    }

    /// Waits for the child to exit; its status as `terminationStatus` says.
    @discardableResult public func waitUntilExit() -> Int32 {
        lock.withLock {
            if let status { return status }
            var raw: Int32 = 0
            while waitpid(processIdentifier, &raw, 0) == -1 && errno == EINTR {}
            let s = Self.decode(raw)
            status = s
            return s
        }
    }

    /// The exit code, or the number of the signal that ended the child; waits for it.
    public var terminationStatus: Int32 { waitUntilExit() }

    /// The next line of the captured standard output without its newline, or nil at its end.
    public func readLine() -> String? {
        guard let handle = standardOutput else { return nil }
        var line = [UInt8]()
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte[0] == 0x0A { return String(decoding: line, as: UTF8.self) }
            line.append(byte[0])
        }
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc
    /// module does not declare (it is a GNU extension): looked up by name.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// `waitpid`'s status as an exit code, or the signal's number.
    private static func decode(_ raw: Int32) -> Int32 {
        raw & 0x7f == 0 ? (raw >> 8) & 0xff : raw & 0x7f
    }
}
