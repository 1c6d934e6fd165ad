import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore
import Synchronization

/// One line of sync progress (issue 15 item 3): what is done of what the hub said there is, the
/// rate, and the time left — `[#########.....................] 30,000 of 100,000 records, 8,100/s, 9 s left`.
func progressLine(_ p: SyncProgress, elapsed: Double, bar: Bool = true, say: Phrases = Phrases(chinese: false)) -> String {
    if p.indexing {
        let line = say.indexing(p.received, bar: bar)
        return bar ? "[" + String(repeating: "#", count: 30) + "] " + line : line
    }
    let done = p.done
    let rate = Double(p.received) / max(0.001, elapsed)
    let left = done > 0 && done < 1 ? Int((elapsed * (1 - done) / done).rounded(.up)) : nil
    let line = say.pullProgress(received: p.received, of: p.start == 0 && p.total > 0 ? Int(p.total) : nil, rate: Int(rate), secondsLeft: left, bar: bar)
    guard bar else { return line }
    let filled = Int(done * 30)
    return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "] " + line
}

/// The one line on a terminal's stderr that says how a command that waits on the hub is doing:
/// nothing at first; after two seconds without an answer (a slow link, or one that drops
/// packets until the connect deadline, 10 s) what it waits for; then the pull's progress, which
/// takes its place. At the end a progress line stays on screen and a waiting line is erased —
/// and a command that showed neither leaves nothing (it left an empty line before every sync's
/// sentence). Off a terminal it shows nothing.
final class TerminalLine: Sendable {
    enum State { case quiet, waiting, progress, ended }
    private let state: Mutex<State>

    init(_ tty: Bool) { state = Mutex(tty ? .quiet : .ended) }

    /// Shows `text` after `delay` unless something was shown, or the line ended, before.
    func waiting(_ text: String, after delay: Duration = .seconds(2)) -> Task<Void, Never> {
        Task {
            try? await Task.sleep(for: delay)
            guard !Task.isCancelled else { return }
            state.withLock { s in
                guard s == .quiet else { return }
                s = .waiting
                Console.progress(text)
            }
        }
    }

    /// Progress, in place of what was on the line (erased to its end: a shorter line, "9 s left"
    /// after "10 s left", left the longer one's last characters behind).
    func show(_ text: String) {
        state.withLock { s in
            guard s != .ended else { return }
            s = .progress
            Console.progress(text)
        }
    }

    func end() {
        state.withLock { s in
            if s == .progress { Console.progressDone() } else if s == .waiting { Console.progressErase() }
            s = .ended
        }
    }
}

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Push your pending writes, then pull everything new from the hub.",
        discussion: """
            Says what it pushed (counted in records: a deal, a task, a request), what others \
            changed (a line a deal), and each request that left your approvals without your \
            decision. Offline is normal: with no network, or the hub down, it says so at once and \
            keeps your work; on a slow link it waits up to 10 s for the hub, saying so after 2 s.

            A folder restored from a backup, or copied from another laptop, syncs on as a new \
            replica: its edits go to the hub, and an edit whose field changed on the hub after \
            it was made does not replace the newer value (opps conflicts lists it). A laptop \
            away longer than the hub keeps changes syncs in full again, and says what changed \
            meanwhile.

            Example: opps sync
            """)

    @OptionGroup var home: HomeOption

    @Flag(
        help:
            "Print one JSON object: pushed, applied, conflicts, pulled, from_others, overruled (own writes that held and lost later), held_over (others' writes that lost to yours), repaired, cursor_expired (the repair was a full sync because you were away longer than the hub keeps changes), new_replica (this folder was an older copy and syncs as a new replica now)."
    )
    var json = false

    static func perform(_ replica: Replica, transport: any Transport, json: Bool, say: Phrases) async throws -> SyncReport {
        let start = Date()
        let tty = Console.isTerminal && !json
        let line = TerminalLine(tty)
        let waiting = line.waiting(say.connecting(hub: replica.hubURL))
        defer {
            waiting.cancel()
            line.end()
        }
        return try await replica.sync(transport: transport) { p in
            guard p.pages > 1 || p.received > 1000 else { return }
            if tty {
                line.show(progressLine(p, elapsed: Date().timeIntervalSince(start), say: say))
            } else if !json, p.pages % 10 == 0 || p.indexing {
                Console.err(progressLine(p, elapsed: Date().timeIntervalSince(start), bar: false, say: say))
            }
        }
    }

    func run() async throws {
        let replica = try home.open()
        let transport = HTTPTransport(baseURL: replica.hubURL, caFile: replica.caFile)
        defer { Task { await transport.shutdown() } }
        let words = home.words(replica)
        let say = words.say
        let trailEnd = try replica.store.historyEnd()
        // A replica whose first full sync (opps init's) was cut short: this sync finishes it.
        let first = try replica.store.meta(Replica.lastSyncKey) == nil
        let r = try await Self.perform(replica, transport: transport, json: json, say: say)
        if json {
            Console.out(try SyncJSON(r).jsonLine())
        } else {
            Console.out(
                say.synced(
                    pushed: r.pushed, records: r.pushedRecords, applied: r.applied, conflicts: r.conflicts, fromOthers: r.news + r.goneCount, repaired: r.diverged))
            if let line = r.newReplicaLine(chinese: say.chinese) ?? r.resyncedLine(chinese: say.chinese) { Console.out(hanging("", line)) }
            if r.flaggedCheckins > 0 { Console.out(say.clockOff(seconds: abs(r.clockSkewMilliseconds) / 1000, flagged: r.flaggedCheckins)) }
            // What others changed on the deals here, a line a deal: what a rep back from a day
            // offline wants to know first.
            // Its records are what it holds, not news of others' work, one line each.
            if first, try replica.store.meta(Replica.lastSyncKey) != nil {
                Console.out(say.firstSyncDone(records: try replica.store.recordCount()))
            } else if r.news > 0 {
                // Requests that left the approver's queue without a decision of theirs: after
                // the deals' lines, which leave out the approval state they set.
                let settled = try replica.requestsSettledByOthers(after: trailEnd, words: words, chinese: say.chinese)
                try printChangesByOthers(replica, words, r, after: trailEnd, settled: Set(settled.compactMap(\.deal)))
                if !settled.isEmpty {
                    let short = try replica.shortIDs()
                    for s in settled { Console.out(hanging("  \(short(s.record)) ", s.text)) }
                }
            }
            // A deal gone from this laptop (given to someone else): said by name — its id names
            // nothing here any more — a line each, five at most.
            for line in r.goneLines(chinese: say.chinese) { Console.out(hanging("  ", line)) }
            if r.overruled > 0 { Console.out(say.overruled(r.overruled)) } else if r.conflicts > 0 { Console.out(say.seeConflicts) }
            // A request an approver rejected: who, and why as they wrote it, a line each (the
            // short ids read only then: they read every id here).
            let rejected = try replica.rejections(in: r, words: words, chinese: say.chinese)
            if !rejected.isEmpty {
                let short = try replica.shortIDs()
                for (record, text) in rejected { Console.out(hanging("  \(short(record)) ", text)) }
            }
            if !r.heldOver.isEmpty { Console.out(say.heldOver(r.heldOver)) }
            // Two laptops that made one company offline: say so once the sync brought both here.
            if r.pulled > 0 {
                for entity in ["account", "contact"] where replica.workspace.entity(entity) != nil {
                    let n = Duplicates.groups(try replica.store.list(entity: entity, workspace: replica.workspace)).count
                    if n > 0 { Console.out(say.likelyDuplicates(n, words.entity(entity), command: "opps \(entity)")) }
                }
                // Deals: when a deal another made, new here, makes a pair with one here (looked
                // for among its account's deals only); then how many pairs there are.
                if try !replica.duplicateDeals(broughtBy: r).isEmpty {
                    let n = try replica.likelyDuplicateDeals().count
                    Console.out(say.likelyDuplicates(n, say.chinese ? words.entity("opportunity") : "deal", command: "opps"))
                }
            }
        }
    }
}

/// What others changed or made in the sync that began when the trail ended at `position`
/// (`Replica.changesByOthers`), a line each: a deal's fields' new values and who changed them
/// (`d9e4rykj 云帆物流 扩容：折扣 → 12.5%（lin）`), a record made (`新商机「…」（wei）`), one made
/// on a deal (`…：新任务「…」（wei）`); at most five, then how many more.
func printChangesByOthers(_ r: Replica, _ words: Vocabulary, _ report: SyncReport, after position: Int64, settled: Set<RecordID> = []) throws {
    let say = words.say
    let changed = try r.changesByOthers(report, after: position, first: 5, settled: settled, words: words)
    let short = try r.shortIDs()
    for c in changed.shown {
        let line = try c.sentence(words, chinese: say.chinese, reader: r.user, deleted: say.deletedTheRecord) { try valueText(r, words, $0, $1, $2) }
        Console.out(hanging("  \(short(c.record)) ", line))
    }
    if changed.count > changed.shown.count { Console.out(say.moreChanges(changed.count - changed.shown.count)) }
}
