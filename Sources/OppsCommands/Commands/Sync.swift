import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// One line of sync progress (issue 15 item 3): what is done of what the hub said there is, the
/// rate, and the time left — `[#########.....................] 30,000 of 100,000 records, 8,100/s, 9 s left`.
func progressLine(_ p: SyncProgress, elapsed: Double, bar: Bool = true) -> String {
    if p.indexing {
        let records = "\(grouped(p.received)) records"
        return bar ? "[" + String(repeating: "#", count: 30) + "] \(records) pulled, building indexes…" : "pulled \(records), building indexes…"
    }
    let done = p.done
    let rate = Double(p.received) / max(0.001, elapsed)
    let what = p.start == 0 && p.total > 0 ? "\(grouped(p.received)) of \(grouped(Int(p.total))) records" : "\(grouped(p.received)) records and changes"
    var line = "\(what), \(grouped(Int(rate)))/s"
    if done > 0, done < 1 { line += ", \(Int((elapsed * (1 - done) / done).rounded(.up))) s left" }
    guard bar else { return "pulled " + line }
    let filled = Int(done * 30)
    return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "] " + line
}

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Push your pending writes, then pull everything new from the hub.", discussion: "Example: opps sync")

    @OptionGroup var home: HomeOption

    @Flag(help: "Print one JSON object: pushed, applied, conflicts, pulled, repaired.")
    var json = false

    static func perform(_ replica: Replica, transport: any Transport, json: Bool) async throws -> SyncReport {
        let start = Date()
        let tty = Console.isTerminal && !json
        let report = try await replica.sync(transport: transport) { p in
            guard p.pages > 1 || p.received > 1000 else { return }
            if tty {
                // Erased to the end of the line: a shorter line ("9 s left" after "10 s left")
                // left the longer one's last characters behind.
                Console.progress("\r" + progressLine(p, elapsed: Date().timeIntervalSince(start)) + "\u{1B}[K")
            } else if !json, p.pages % 10 == 0 || p.indexing {
                Console.err(progressLine(p, elapsed: Date().timeIntervalSince(start), bar: false))
            }
        }
        if tty { Console.progress("\n") }
        return report
    }

    func run() async throws {
        let replica = try home.open()
        let transport = HTTPTransport(baseURL: replica.hubURL, caFile: replica.caFile)
        defer { Task { await transport.shutdown() } }
        let r = try await Self.perform(replica, transport: transport, json: json)
        if json {
            Console.out(try SyncJSON(r).jsonLine())
        } else {
            Console.out(
                "pushed \(r.pushed) change\(r.pushed == 1 ? "" : "s") to \(r.pushedRecords) record\(r.pushedRecords == 1 ? "" : "s") (\(r.applied) applied, \(r.conflicts) conflicts), pulled \(r.pulled)"
                    + (r.repaired ? "; repaired from the hub" : ""))
            if r.flaggedCheckins > 0 {
                Console.out("this laptop's clock is \(abs(r.clockSkewMilliseconds) / 1000) s off the hub's: \(r.flaggedCheckins) check-in(s) flagged")
            }
            if r.conflicts > 0 { Console.out("see: opps conflicts") }
            // Two laptops that made one company offline: say so once the sync brought both here.
            if r.pulled > 0 {
                for entity in ["account", "contact"] where replica.workspace.entity(entity) != nil {
                    let n = Duplicates.groups(try replica.store.list(entity: entity, workspace: replica.workspace)).count
                    if n > 0 { Console.out("\(n) likely duplicate \(entity)\(n == 1 ? "" : "s") here: opps \(entity) duplicates") }
                }
            }
        }
    }
}
