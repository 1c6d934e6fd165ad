/// The names of a hub's users, as a pull carries them to a replica (sync-protocol.md §6.2
/// `users`; who may read them: visibility.md §5), and the one rule both the hub and a replica
/// check with names: a `user` field names a user of the hub (`unknown-user`).
public struct UserNames: Sendable, Hashable {
    /// Each name once, in ascending order of its UTF-8 bytes (the order the list is sent in).
    public let names: [UserName]
    /// The list's digest: FNV-1a 64 over each name's UTF-8 bytes and a line feed after each,
    /// never 0 (0 on the wire means "no list"). Opaque to a replica, which echoes it.
    public let digest: UInt64
    private let members: Set<UserName>

    /// The list of these names (sorted, each once), with its digest.
    public init(_ names: some Sequence<UserName>) {
        let sorted = Set(names).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for name in sorted {
            for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
            h = (h ^ 0x0A) &* 0x0000_0100_0000_01B3
        }
        self.init(sorted: sorted, digest: h == 0 ? 1 : h)
    }

    /// A list as received: the names as the hub sent them, under the digest it gave.
    public init(received names: [UserName], digest: UInt64) {
        self.init(sorted: names, digest: digest)
    }

    private init(sorted: [UserName], digest: UInt64) {
        names = sorted
        members = Set(sorted)
        self.digest = digest
    }

    public func contains(_ name: UserName) -> Bool { members.contains(name) }

    /// The rule `unknown-user`: a write of `value` to a field of `type` names nobody `known`
    /// holds. Only a text value of a user field names someone (null clears the field; any other
    /// value is a type mismatch, decided elsewhere).
    public static func namesUnknownUser(_ type: FieldType?, _ value: Value, known: (UserName) -> Bool) -> Bool {
        guard case .user? = type, case let .text(name) = value else { return false }
        return !known(name)
    }

    /// The names most likely meant by `typed`, best first, at most `limit`: those that differ
    /// from it by a character or two (`王玮` for `王伟`, `smа` for `sam`), or contain it, or that it
    /// contains; letters compared without case.
    public func close(to typed: String, limit: Int = 5) -> [UserName] {
        let folded = typed.lowercased(), t = Array(folded)
        guard !t.isEmpty else { return [] }
        let allowed = max(1, t.count / 3)
        var scored = [(score: Int, name: UserName)]()
        for name in names {
            let other = name.lowercased(), n = Array(other)
            let d = Self.distance(t, n, bound: allowed)
            if d <= allowed {
                scored.append((d, name))
            } else if n.count > 1, t.count > 1, other.contains(folded) || folded.contains(other) {
                scored.append((allowed + 1 + abs(n.count - t.count), name))
            }
        }
        return scored.sorted { ($0.score, $0.name.utf8.count) < ($1.score, $1.name.utf8.count) }.prefix(limit).map(\.name)
    }

    /// Edit distance (insert, delete or replace a character, or swap two neighbours: `tmo` is
    /// one from `tom`), or `bound + 1` once it is larger.
    static func distance(_ a: [Character], _ b: [Character], bound: Int) -> Int {
        guard abs(a.count - b.count) <= bound else { return bound + 1 }
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var before = [Int](), previous = Array(0...b.count)
        for i in 1...a.count {
            var row = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { row[j] = min(row[j], before[j - 2] + 1) }
            }
            if row.min()! > bound { return bound + 1 }
            (before, previous) = (previous, row)
        }
        return min(previous[b.count], bound + 1)
    }
}
