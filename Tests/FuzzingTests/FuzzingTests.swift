import Foundation
import OppsCore
import OppsFuzzing
import Testing

/// The fuzz harness's invariants on its seeds and on seeded mutations of them, in every
/// `swift test` (the coverage-guided runs are Tools/fuzz.sh's; findings become seeds here).
@Suite struct FuzzingTests {
    @Test func everySeedPassesEveryInvariant() {
        let seeds = Fuzzing.seeds
        #expect(Set(seeds.compactMap(\.first)).count == Fuzzing.Target.allCases.count)
        for seed in seeds { Fuzzing.run(seed) }
    }

    /// What coverage-guided runs found, kept as inputs (Tests/FuzzingTests/Findings): each
    /// trapped before its fix. "member-longer-than-256-bytes": `Value.parse` made a member out of
    /// range (the text forms — command line, typed JSON, import — skipped the range check).
    /// "workspace-entity-skipped-then-cross-checked": a workspace with an entity that did not
    /// parse had its later entities' reference check read the JSON by position and trap.
    @Test func everyFindingStaysFixed() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Findings")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(!names.isEmpty)
        for name in names { Fuzzing.run(Array(try Data(contentsOf: folder.appendingPathComponent(name)))) }
        #expect(throws: ValueError.self) { try Value.parse(kind: "member", text: String(repeating: "m", count: 257)) }
    }

    /// Byte flips, insertions, truncations and splices of the seeds, 20,000 of them.
    @Test func mutatedSeedsPassEveryInvariant() {
        var rng = SeededGenerator(seed: 13)
        let seeds = Fuzzing.seeds
        for _ in 0..<20_000 {
            var input = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + rng.next() % 4) {
                guard input.count > 1 else { break }
                let at = 1 + Int(rng.next() % UInt64(input.count - 1))
                switch rng.next() % 5 {
                case 0: input[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: input.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
                case 2: input.removeSubrange(at..<min(input.count, at + Int(rng.next() % 8)))
                case 3: input[at] ^= 1 << UInt8(rng.next() % 8)
                default:
                    let other = seeds[Int(rng.next() % UInt64(seeds.count))].dropFirst()
                    input.insert(contentsOf: other.prefix(Int(rng.next() % 64)), at: at)
                }
            }
            Fuzzing.run(input)
        }
    }
}
