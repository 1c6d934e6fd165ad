import Foundation
import Logging
import Testing

@testable import OppsHub

/// The hub's log lines keep swift-log's `StreamLogHandler` format, one event to a line.
@Suite struct HubLogHandlerTests {
    /// Logs through a handler writing into a pipe and returns the lines written.
    func lines(level: Logger.Level = .info, _ body: (Logger) -> Void) throws -> [String] {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        var logger = Logger(label: "opps-hub") { HubLogHandler(label: $0, fileDescriptor: ends[1]) }
        logger.logLevel = level
        body(logger)
        close(ends[1])
        let read = FileHandle(fileDescriptor: ends[0], closeOnDealloc: true).readDataToEndOfFile()
        return String(decoding: read, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test func aLineHasStreamLogHandlersShape() throws {
        let written = try lines { logger in
            var logger = logger
            logger[metadataKey: "hb.request.id"] = "c01a"
            logger.info("answered", metadata: ["status": "200", "path": "/v1/push"], source: "OppsHub")
        }
        #expect(written.count == 2 && written[1] == "")  // one line, ended
        let line = written[0]
        // 2026-12-04T16:39:47+0000, then the level, the label, the metadata sorted by key.
        #expect(
            line.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} info opps-hub: hb\.request\.id=c01a path=\/v1\/push status=200 \[OppsHub\] answered/) != nil,
            "\(line)")
    }

    @Test func whatARequestChoseCannotStartALineOfItsOwn() throws {
        let written = try lines { logger in
            logger.warning(
                "refused\n2026-12-04T00:00:00+0000 info opps-hub: [OppsHub] forged", metadata: ["user": "wei\r\nroot", "note": "tab\there\u{1b}[31m"],
                source: "OppsHub")
        }
        #expect(written.count == 2)
        #expect(written[0].hasSuffix(#"[OppsHub] refused\n2026-12-04T00:00:00+0000 info opps-hub: [OppsHub] forged"#), "\(written[0])")
        #expect(written[0].contains(#"note=tab\there\u{1b}[31m user=wei\r\nroot"#), "\(written[0])")
        // C1 controls and the line separators too; text outside them is written as it is:
        // Chinese names and punctuation stay readable.
        let unicode = try lines { $0.info("a\u{2028}b\u{85}c\u{9b}31m", metadata: ["user": "王伟 — £"], source: "OppsHub") }
        #expect(unicode.count == 2)
        #expect(unicode[0].hasSuffix(#"user=王伟 — £ [OppsHub] a\u{2028}b\u{85}c\u{9b}31m"#), "\(unicode[0])")
    }

    @Test func anErrorIsNamedAndBelowTheLevelNothingIsWritten() throws {
        struct DiskFull: Error {}
        let written = try lines { logger in
            logger.debug("request", metadata: ["path": "/v1/pull"])
            logger.error("failed", error: DiskFull())
        }
        #expect(written.count == 2)
        #expect(written[0].contains(" error opps-hub: error.message=DiskFull() error.type=OppsHubTests.HubLogHandlerTests"), "\(written[0])")
        #expect(written[0].hasSuffix("failed"))
    }
}
