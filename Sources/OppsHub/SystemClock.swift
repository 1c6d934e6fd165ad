import Foundation
import OppsCore

/// The machine's wall clock.
public struct SystemClock: PhysicalClock {
    public init() {}
    public func nowMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
