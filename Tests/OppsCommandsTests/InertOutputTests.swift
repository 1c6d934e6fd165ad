import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsTestSupport
import Testing

@testable import OppsCommands

/// What `opps` prints is inert: a control character in a value — one stored before a text could
/// no longer hold one (`Value.plainText`), or carried by a name — is shown as a visible stand-in
/// and never reaches the terminal to act on (an escape sequence that retitles the window, clears
/// the screen or recolours what follows; a carriage return that overwrites the line).
@Suite struct InertOutputTests {
    @Test func aControlCharacterIsShownNotActedOn() {
        #expect("北辰\u{1B}]0;PWNED\u{07}物流".terminalSafe == "北辰␛]0;PWNED␇物流")
        #expect("call\rfake".terminalSafe == "call␍fake", "a lone CR would overwrite the line")
        #expect("\u{9B}31m\u{7F}".terminalSafe == "\u{FFFD}31m␡", "C1's CSI and DEL")
        #expect("第一行\n\t第二行\r\n".terminalSafe == "第一行\n\t第二行\r\n", "line breaks, tabs and CR LF stay")
        #expect("¥1,200 · 华东".terminalSafe == "¥1,200 · 华东", "U+00A5 and U+00B7 start with 0xC2 too and stay")
        #expect("北辰\u{202E}0001 CNY\u{2066}".terminalSafe == "北辰\u{FFFD}0001 CNY\u{FFFD}", "no override reverses the rest of a row")
        #expect("华东 — 试点…".terminalSafe == "华东 — 试点…", "a dash and an ellipsis start with 0xE2 too and stay")
        // A stand-in takes the one column it shows in, so tables stay lined up.
        #expect("a\u{1B}b".displayWidth == 3 && "a\u{1B}b".terminalSafe.displayWidth == 3)
        #expect("a\nb\tc".displayWidth == 3)
    }

    @Test func everyCommandShowsAStoredEscapeSequenceAsText() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            let id = try #require(
                await opps("new", "北辰物流", "--account", "北辰", "--amount", "50000", "--currency", "CNY", "--home", home, "--json").json?["id"]?.string)
            #expect(await opps("set", id, "next_step=回访", "next_step_due=2020-01-01", "needs=ERP", "--home", home).code == 0)
            #expect(await opps("sync", "--home", home).code == 0)
            // Values as a hub from before the rule could have sent them (the hub refuses them now).
            let hostile = [
                "name": "北辰\u{1B}]0;PWNED\u{07}物流", "next_step": "call\u{1B}[2J\rfake", "needs": "\u{9B}31mred\u{202E}0001",
            ]
            do {
                let replica = try Replica(home: home, clock: FixedClock(milliseconds: 1_795_000_000_000))
                let full = try #require(await fullID(id, home))
                let recordID = try #require(RecordID(parsing: full))
                let record = try #require(try replica.store.view(recordID, workspace: replica.workspace))
                var changed = record
                for (field, text) in hostile { changed.fields[field]?.value = .text(text) }
                try replica.store.save(confirmed: changed, view: changed, workspace: replica.workspace)
            }
            var seen = 0
            for args in [
                ["list"], ["show", id], ["board"], ["today"], ["history", id], ["list", "--locale", "zh-CN"], ["show", id, "--locale", "zh-CN"],
                ["export", "--csv"], ["report", "follow-up"], ["status"],
            ] {
                let run = await opps(args + ["--home", home])
                #expect(run.code == 0, "\(args): \(run.stderr)")
                let printed = run.stdout + run.stderr
                let acting = printed.unicodeScalars.enumerated().filter { i, c in
                    (c.isControlCharacter || c.isBidiControl) && c != "\n" && c != "\t"
                        && !(c == "\r" && printed.unicodeScalars.dropFirst(i + 1).first == "\n")
                }
                #expect(acting.isEmpty, "\(args) printed \(acting.map { String(format: "U+%04X", $0.1.value) }): \(printed.debugDescription)")
                if printed.contains("␛") { seen += 1 }
            }
            #expect(seen >= 7, "the values were printed, as stand-ins")
            // Machine formats keep the value exactly, escaped as JSON escapes it.
            let json = await opps("show", id, "--json", "--home", home)
            #expect(json.json?["fields"]?["name"]?.string == hostile["name"], "\(json.stdout)")
        }
    }

    /// The full id a short id printed by `opps` names.
    private func fullID(_ short: String, _ home: String) async -> String? {
        await opps("show", short, "--json", "--home", home).json?["id"]?.string
    }
}
