/// Protocol versions and their negotiation (sync-protocol.md §3). A client sends the range it
/// speaks; the hub answers with the highest version in both ranges, or refuses with
/// `protocol-version-unsupported`.
public enum ProtocolVersion {
    /// The newest version this build speaks.
    public static let current: UInt32 = 7
    /// The oldest version this build still speaks.
    public static let minimum: UInt32 = 1

    /// The schema fingerprint of each version's oppsync.proto (comments and spacing removed,
    /// FNV-1a 64). A change to the messages changes the fingerprint; the fingerprint test then
    /// fails until `current` is bumped, this table extended and Protocol/CHANGELOG.md written.
    public static let fingerprints: [UInt32: String] = [
        1: "85cb92403c3892cc",
        2: "28e4121e0167a968",
        3: "93ba6211b8f39e18",
        4: "a0036ac868b69deb",
        5: "896a8629976cc780",
        6: "2daf6aabcca0a43c",
        7: "031e42d4bcb4074c",
    ]

    /// The version both sides speak, or nil when the ranges do not meet.
    public static func negotiate(clientMin: UInt32, clientMax: UInt32, serverMin: UInt32 = minimum, serverMax: UInt32 = current) -> UInt32? {
        guard clientMin <= clientMax else { return nil }
        let v = min(clientMax, serverMax)
        return v >= max(clientMin, serverMin) ? v : nil
    }

    /// The normalised schema fingerprint of a .proto text: comments and whitespace runs are
    /// removed first, so editing a comment does not count as a change.
    public static func fingerprint(ofProto text: String) -> String {
        var normalised = [UInt8]()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var code = Substring(line)
            if let r = code.firstRange(of: "//") { code = code[..<r.lowerBound] }
            let words = code.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            normalised.append(contentsOf: Array(words.joined(separator: " ").utf8))
            normalised.append(0x0A)
        }
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in normalised {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01B3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
