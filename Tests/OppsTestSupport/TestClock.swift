import Foundation
import OppsCore

/// A wall clock a test moves: set to a moment, or advanced. The hub and every laptop of a test
/// may share one, as they agree on the time in the field.
public final class TestClock: PhysicalClock, @unchecked Sendable {
    private let lock = NSLock()
    private var ms: Int64

    public init(_ ms: Int64) { self.ms = ms }
    /// At a time as `opps` reads one (`2027-03-01T09:00:00Z`).
    public convenience init(_ text: String) { self.init(try! Timestamp(parsing: text).milliseconds) }

    public func nowMilliseconds() -> Int64 { lock.withLock { ms } }
    public func set(_ m: Int64) { lock.withLock { ms = m } }
    public func advance(_ delta: Int64) { lock.withLock { ms += delta } }
    public func advance(days: Int64) { advance(days * 86_400_000) }
}
