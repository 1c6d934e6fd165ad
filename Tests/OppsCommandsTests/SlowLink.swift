import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP relay on 127.0.0.1 in front of a port, holding back each connection's first bytes from
/// the server by `delay` seconds: a slow mobile link as the laptop meets it, where the TCP
/// connection is made at once and the server's first answer (a TLS handshake's, say) comes late.
/// Blocking sockets on threads of its own; `close()` stops it.
final class SlowLink: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let target: Int
    private let delay: Double
    private let lock = NSLock()
    private var sockets: [Int32] = []
    private var closed = false

    init(to target: Int, firstAnswerAfter delay: Double) throws {
        self.target = target
        self.delay = delay
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard s >= 0, bound == 0, listen(s, 16) == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) }
        }
        listener = s
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in accepting() }
    }

    func close() {
        lock.lock()
        closed = true
        let open = sockets
        sockets = []
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        _ = Glibc.close(listener)
        for s in open { shutdown(s, Int32(SHUT_RDWR)) }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func keep(_ s: Int32) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if closed { return false }
        sockets.append(s)
        return true
    }

    private func accepting() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0, keep(client), keep(server) else {
                _ = Glibc.close(client)
                _ = Glibc.close(server)
                continue
            }
            let pair = Pair(client, server)
            Thread.detachNewThread { [self] in relay(from: client, to: server, holdingFirst: 0, pair) }
            Thread.detachNewThread { [self] in relay(from: server, to: client, holdingFirst: delay, pair) }
        }
    }

    /// A relayed connection's two sockets, closed when both directions have stopped.
    private final class Pair: @unchecked Sendable {
        let sockets: (Int32, Int32)
        private let lock = NSLock()
        private var running = 2
        init(_ a: Int32, _ b: Int32) { sockets = (a, b) }
        func stopped(_ link: SlowLink) {
            lock.lock()
            running -= 1
            let last = running == 0
            lock.unlock()
            guard last else { return }
            link.forget(sockets.0, sockets.1)
            _ = Glibc.close(sockets.0)
            _ = Glibc.close(sockets.1)
        }
    }

    private func forget(_ a: Int32, _ b: Int32) {
        lock.lock()
        sockets.removeAll { $0 == a || $0 == b }
        lock.unlock()
    }

    /// Copies until either side closes; the first bytes read wait `holdingFirst` seconds.
    private func relay(from: Int32, to: Int32, holdingFirst hold: Double, _ pair: Pair) {
        defer { pair.stopped(self) }
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var first = true
        while true {
            let n = read(from, &buffer, buffer.count)
            if n <= 0 { break }
            if first, hold > 0 { Thread.sleep(forTimeInterval: hold) }
            first = false
            var sent = 0
            while sent < n {
                let m = buffer.withUnsafeBytes { write(to, $0.baseAddress! + sent, n - sent) }
                if m <= 0 { break }
                sent += m
            }
            if sent < n { break }
        }
        shutdown(from, Int32(SHUT_RDWR))
        shutdown(to, Int32(SHUT_RDWR))
    }
}
