/// A hybrid logical clock value (merge-semantics.md §2): the high 48 bits are wall-clock
/// milliseconds, the low 16 bits a logical counter. It orders causally related events
/// correctly even when device clocks drift, and stays close to real time, so reports can use
/// it as the device time of the work.
public struct HLC: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(milliseconds: Int64, counter: UInt16) {
        rawValue = UInt64(max(0, milliseconds)) << 16 | UInt64(counter)
    }

    public static let zero = HLC(rawValue: 0)

    public var milliseconds: Int64 { Int64(rawValue >> 16) }
    public var counter: UInt16 { UInt16(truncatingIfNeeded: rawValue) }
    /// The wall-clock instant this clock value stands for.
    public var timestamp: Timestamp { Timestamp(milliseconds: milliseconds) }

    public static func < (a: HLC, b: HLC) -> Bool { a.rawValue < b.rawValue }

    public var description: String { "\(timestamp)#\(counter)" }
}

/// A source of wall-clock milliseconds, injected so tests and simulations control time.
public protocol PhysicalClock: Sendable {
    func nowMilliseconds() -> Int64
}

/// A clock that returns what it is set to.
public struct FixedClock: PhysicalClock {
    public var milliseconds: Int64
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public func nowMilliseconds() -> Int64 { milliseconds }
}

/// The state of a hybrid logical clock on one replica or hub (Kulkarni et al., 2014).
public struct HybridLogicalClock: Sendable {
    public private(set) var last: HLC

    public init(last: HLC = .zero) { self.last = last }

    /// A new clock value for a local event: later than every value this clock has issued or
    /// received.
    public mutating func tick(physical: Int64) -> HLC {
        let pt = max(0, physical)
        if pt > last.milliseconds {
            last = HLC(milliseconds: pt, counter: 0)
        } else {
            last = HLC(rawValue: last.rawValue &+ 1)
        }
        return last
    }

    /// Merges a value received from elsewhere (a pulled change), so the next local event is
    /// ordered after it.
    public mutating func receive(_ remote: HLC, physical: Int64) {
        if remote > last { last = remote }
        if max(0, physical) > last.milliseconds { last = HLC(milliseconds: physical, counter: 0) }
    }
}
