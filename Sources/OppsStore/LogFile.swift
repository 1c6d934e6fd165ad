#if canImport(Glibc)
    import Glibc
#endif

/// What makes the commits a store made with `SQLHubStore.transactionSyncedLater` durable: called
/// on a thread of its own while the store's thread goes on (`CommitSyncer` in the hub).
public protocol CommitSync: Sendable {
    /// Returns once every commit made before the call is on disk; throws if the disk refused.
    func sync() throws
}

/// A hub database's write-ahead log, opened a second time, read-only, so that another thread can
/// `fdatasync` it: a commit made with `synchronous=NORMAL` has written its frames to the log but
/// not waited for the disk, and this makes them durable. The connection's own handle is never
/// touched from another thread.
///
/// The file is the one SQLite writes for as long as the hub's connection is open: SQLite deletes
/// or replaces a log only when the last connection to the database closes, and the hub holds one
/// open from start to stop. Each sync still checks that the path names the same file, so that a
/// log replaced under a running hub (an operator's copy over it) fails the sync — and every answer
/// waiting for it — instead of syncing a file nobody writes.
public final class LogFile: CommitSync {
    public let path: String
    private let fd: Int32
    private let device: UInt64
    private let inode: UInt64

    /// Opens the log at `path` (the database's path with "-wal"); it must exist.
    public init(path: String) throws(StoreError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(code: StoreError.unavailable, message: "open \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw StoreError(code: StoreError.unavailable, message: "stat \(path): \(message)")
        }
        self.fd = fd
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    deinit { close(fd) }

    public func sync() throws {
        var now = stat()
        guard stat(path, &now) == 0, UInt64(now.st_dev) == device, UInt64(now.st_ino) == inode else {
            throw StoreError(code: StoreError.unavailable, message: "the write-ahead log \(path) is no longer the file the hub opened: restart the hub")
        }
        while fdatasync(fd) != 0 {
            guard errno == EINTR else {
                throw StoreError(code: StoreError.unavailable, message: "fdatasync \(path): \(String(cString: strerror(errno)))")
            }
        }
    }
}
