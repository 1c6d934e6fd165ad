import Foundation

/// An exclusive advisory lock on a hub's data directory (`DATA/hub.lock`), held by `serve` for
/// its whole life. `restore` takes it too: swapping the database under a running hub would let
/// the hub keep writing — and acknowledging — into the replaced file, losing those writes.
/// The kernel drops the lock when the process dies, even on kill -9.
public final class HubLock {
    private let fd: Int32

    /// Takes the lock, or throws `HubError.invalid` when another process holds it.
    public init(directory: String) throws {
        let path = directory + "/hub.lock"
        fd = open(path, O_CREAT | O_RDWR, 0o600)
        guard fd >= 0 else { throw HubError.invalid("cannot open \(path): check the directory's permissions", chinese: "无法打开 \(path)：请检查目录的权限") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw HubError.invalid("a hub is running on \(directory) (it holds \(path)); stop it first", chinese: "已有服务器在使用 \(directory)（它占用着 \(path)）：先停止它")
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
