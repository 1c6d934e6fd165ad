import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Directories tests write in, all under one root for the test process (`opps-tests-<pid>` in the
/// system's temporary directory), removed when the process exits. A run that crashed leaves its
/// root behind; the next run removes the roots of processes that no longer exist.
public enum Scratch {
    /// A new, empty directory whose name starts with `prefix`.
    public static func directory(_ prefix: String) -> String {
        let path = root + "/\(prefix)-\(UInt64.random(in: 0...UInt64.max))"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            fatalError("tests cannot make their scratch directory \(path): \(error)")
        }
        return path
    }

    /// This process's root, swept and registered for removal the first time it is asked for.
    private static let root: String = {
        sweep(FileManager.default.temporaryDirectory.path)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.rootPath()) }
        return rootPath()
    }()

    /// The root's path (a function: the exit handler cannot capture).
    private static func rootPath() -> String { FileManager.default.temporaryDirectory.path + "/opps-tests-\(getpid())" }

    /// Removes the roots of test processes that have gone.
    private static func sweep(_ base: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else { return }
        for name in names where name.hasPrefix("opps-tests-") {
            guard let pid = Int32(name.dropFirst("opps-tests-".count)), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(atPath: base + "/" + name) }
        }
    }
}
