import OppsTestSupport
import Testing

@testable import OppsWire

/// Zero's idea: the schema has a fingerprint, and changing the messages without bumping the
/// protocol version (and writing the changelog) fails the build's tests.
@Suite struct FingerprintTests {
    @Test func messagesMatchTheRecordedFingerprintOfTheCurrentVersion() throws {
        let proto = try RepositoryFiles.text("Protocol/oppsync.proto")
        let fingerprint = ProtocolVersion.fingerprint(ofProto: proto)
        #expect(
            ProtocolVersion.fingerprints[ProtocolVersion.current] == fingerprint,
            "oppsync.proto changed (fingerprint \(fingerprint)): bump ProtocolVersion.current, record the fingerprint, write Protocol/CHANGELOG.md")
    }

    @Test func theChangelogNamesTheCurrentVersionAndItsFingerprint() throws {
        let changelog = try RepositoryFiles.text("Protocol/CHANGELOG.md")
        let fingerprint = try #require(ProtocolVersion.fingerprints[ProtocolVersion.current])
        #expect(changelog.contains("## Version \(ProtocolVersion.current) — schema \(fingerprint)"))
    }

    @Test func theGeneratedCodeIsFromTheCurrentProto() throws {
        // Every message of the .proto has its generated Swift type (a stale Generated/ would miss one).
        let proto = try RepositoryFiles.text("Protocol/oppsync.proto")
        let generated = try RepositoryFiles.text("Sources/OppsWire/Generated/oppsync.pb.swift")
        for line in proto.split(separator: "\n") where line.hasPrefix("message ") {
            let name = line.split(separator: " ")[1]
            #expect(generated.contains("struct Oppsync_V1_\(name):"), "Generated/ lacks \(name): run Tools/generate-protobuf.sh")
        }
        for line in proto.split(separator: "\n") {
            let words = line.split(separator: " ").filter { !$0.isEmpty }
            // Field declarations: `type name = N;` — each field name appears in the generated code.
            if words.count >= 4, words[words.count - 2] == "=", let name = words.dropLast(2).last, line.hasPrefix("  ") {
                let camel = name.split(separator: "_").enumerated().map {
                    $0.offset == 0 ? String($0.element) : $0.element.prefix(1).uppercased() + $0.element.dropFirst()
                }.joined()
                #expect(generated.contains(camel), "Generated/ lacks field \(name)")
            }
        }
    }

    @Test func commentsAndSpacingDoNotCount() {
        let a = "message A {\n  string b = 1; // a comment\n}\n"
        let b = "// header\nmessage   A {\n\n  string b = 1;\n}"
        let c = "message A {\n  string b = 2;\n}"
        #expect(ProtocolVersion.fingerprint(ofProto: a) == ProtocolVersion.fingerprint(ofProto: b))
        #expect(ProtocolVersion.fingerprint(ofProto: a) != ProtocolVersion.fingerprint(ofProto: c))
    }

    @Test(arguments: [
        (1 as UInt32, 1 as UInt32, 1 as UInt32, 1 as UInt32, UInt32?.some(1)),
        (1, 3, 1, 2, 2),
        (2, 3, 1, 1, nil),
        (1, 1, 2, 3, nil),
        (3, 1, 1, 3, nil),
    ])
    func negotiationPicksTheHighestCommonVersion(cmin: UInt32, cmax: UInt32, smin: UInt32, smax: UInt32, expected: UInt32?) {
        #expect(ProtocolVersion.negotiate(clientMin: cmin, clientMax: cmax, serverMin: smin, serverMax: smax) == expected)
    }
}
