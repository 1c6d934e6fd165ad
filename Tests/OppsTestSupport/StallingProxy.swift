import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP proxy in front of PostgreSQL that can stop passing bytes on while it keeps every
/// connection open: to the hub, a server frozen but alive (its kernel still acknowledges what it
/// is sent; nothing comes back). New connections are still accepted and reach the server.
public final class StallingProxy: @unchecked Sendable {
    public let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var isStalled = false
    private var isClosed = false
    private var sockets: [Int32] = []

    public var stalled: Bool {
        get { lock.withLock { isStalled } }
        set { lock.withLock { isStalled = newValue } }
    }

    public init(host: String, port target: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        listener = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw ProxyError() }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                guard let server = Self.connect(host: host, port: target) else {
                    Glibc.close(client)
                    continue
                }
                lock.withLock { sockets += [client, server] }
                Thread.detachNewThread { self.pump(from: client, to: server) }
                Thread.detachNewThread { self.pump(from: server, to: client) }
            }
        }
    }

    private static func connect(host: String, port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let connected = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        if connected { return fd }
        Glibc.close(fd)
        return nil
    }

    /// Passes bytes on while not stalled; stalled, it reads nothing, so they wait in the kernel.
    private func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !lock.withLock({ isClosed }) {
            if stalled {
                Thread.sleep(forTimeInterval: 0.01)
                continue
            }
            var p = pollfd(fd: from, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 10) >= 0 else { return }
            guard p.revents != 0, !stalled else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
            guard n > 0 else {
                shutdown(to, Int32(SHUT_WR))
                return
            }
            var sent = 0
            while sent < n {
                let m = buffer.withUnsafeBytes { send(to, $0.baseAddress! + sent, n - sent, Int32(MSG_NOSIGNAL)) }
                guard m > 0 else { return }
                sent += m
            }
        }
    }

    public func close() {
        let open = lock.withLock {
            isClosed = true
            return sockets
        }
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// The proxy could not listen on a port of 127.0.0.1.
    struct ProxyError: Error {}

    /// `url` (postgres://…) with its host and port made the proxy's.
    public func route(_ url: String) -> String {
        guard var c = URLComponents(string: url) else { return url }
        c.host = "127.0.0.1"
        c.port = port
        return c.string ?? url
    }
}
