import OppsCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The reader's clock. What is stored and sent stays an instant (UTC milliseconds) or a calendar
/// date as typed; what a person reads or types is on their own wall clock: "today", 明天, the
/// minute of a sync or an edit. A rep in Beijing at 07:30 on the 5th is on the 5th, though UTC
/// is still on the 4th. The zone is the device's (TZ, else /etc/localtime), as `date` shows it.
public enum LocalTime {
    /// Seconds east of UTC on this device's clock at `milliseconds` (daylight saving included).
    /// A test that pins the environment gets the offset of its pinned TZ, UTC without one.
    public static func offsetSeconds(at milliseconds: Int64) -> Int {
        if let pinned = ProcessEnvironment.pinned { return pinned["TZ"].flatMap(fixedOffset) ?? 0 }
        var t = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        var parts = tm()
        guard localtime_r(&t, &parts) != nil else { return 0 }
        return Int(parts.tm_gmtoff)
    }

    /// The instant a reading of this device's clock names (`wall`: the reading as if it were
    /// UTC, in milliseconds).
    public static func instant(reading wall: Int64) -> Int64 { instant(reading: wall, offsetAt: offsetSeconds(at:)) }

    /// The instant a wall-clock reading names under a zone whose offset at an instant is
    /// `offsetAt` (seconds east of UTC). Where the clock was set back and the reading happened
    /// twice, the first time; where it was set forward and the reading never happened, the
    /// reading moved on by the change (02:30 on a night that skips 02:00–03:00 is 03:30) — as
    /// calendars and most libraries read it.
    public static func instant(reading wall: Int64, offsetAt: (Int64) -> Int) -> Int64 {
        // The offsets in force half a day either side: a clock changes at most once in a day.
        let before = Int64(offsetAt(wall - 43_200_000)) * 1000, after = Int64(offsetAt(wall + 43_200_000)) * 1000
        let candidates = Set([wall - before, wall - after]).filter { Int64(offsetAt($0)) * 1000 + $0 == wall }
        return candidates.min() ?? wall - before
    }

    /// `2026-12-05 09:30` on the reader's clock.
    public static func minute(_ milliseconds: Int64) -> String {
        minuteText(milliseconds, offsetSeconds: offsetSeconds(at: milliseconds))
    }

    /// The reader's calendar date at `milliseconds`.
    public static func date(_ milliseconds: Int64) -> CivilDate {
        Timestamp(milliseconds: milliseconds).date(offsetSeconds: offsetSeconds(at: milliseconds))
    }

    /// A POSIX zone without rules (`UTC`, `UTC0`, `CST-8`, `<+0530>-5:30`): its offset east of
    /// UTC (POSIX counts west, so `CST-8` is 8 hours east); nil for anything else.
    static func fixedOffset(_ zone: String) -> Int? {
        var rest = Substring(zone)
        if rest.first == "<" {
            guard let close = rest.firstIndex(of: ">") else { return nil }
            rest = rest[rest.index(after: close)...]
        } else {
            let name = rest.prefix { $0.isLetter }
            guard name.count >= 3 else { return nil }
            rest = rest.dropFirst(name.count)
        }
        if rest.isEmpty { return 0 }
        var sign = 1
        if rest.first == "+" || rest.first == "-" {
            sign = rest.first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), let hours = Int(parts[0]), hours <= 24 else { return nil }
        var seconds = hours * 3600
        for (i, p) in parts.dropFirst().enumerated() {
            guard p.count == 2, let n = Int(p), n < 60 else { return nil }
            seconds += i == 0 ? n * 60 : n
        }
        return -sign * seconds
    }
}
