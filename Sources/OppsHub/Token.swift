import Crypto

/// Bearer tokens: `opps_` and 64 hex digits (256 random bits), shown once, stored hashed.
public enum Token {
    public static func generate(using rng: inout some RandomNumberGenerator) -> String {
        let digits = Array("0123456789abcdef")
        var s = "opps_"
        for _ in 0..<4 {
            var v = rng.next()
            for _ in 0..<16 {
                s.append(digits[Int(v & 0xF)])
                v >>= 4
            }
        }
        return s
    }

    /// One round of SHA-256 (swift-crypto): tokens carry 256 random bits, so that is the right cost.
    public static func hash(_ token: String) -> [UInt8] { digest(Array(token.utf8)) }

    /// SHA-256 of bytes: token hashes at rest, push batch fingerprints (sync-protocol.md §5.2).
    public static func digest(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
}
