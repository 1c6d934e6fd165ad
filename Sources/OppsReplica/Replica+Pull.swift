import Foundation
import OppsCore
import OppsStore
import OppsWire
import SwiftProtobuf

/// A pull request a push carried and the hub's answer to it (sync-protocol.md §5.4).
struct CarriedPage {
    var request: PullRequest
    var answer: Result<PullResponse, ReplicaError>
    /// The batch whose answer carried the page, when it is settled in the page's commit.
    var unsettled: AnsweredBatch?
}

/// A batch sent and the hub's answer to it, to be settled (`Replica.settle`).
struct AnsweredBatch {
    var number: UInt64
    var request: PushRequest
    var response: PushResponse
}

/// Pulling pages (pipelined): the engine performs what `PullMachine` decides; the pages and the
/// repairs are applied by the store (`ReplicaStore+Pages`).
extension Replica {
    /// `first`: the first page's answer when it came with the push (sync-protocol.md §5.4).
    func pull(
        transport: any Transport, report: inout SyncReport, head: UInt64, pipelined: Bool, first: CarriedPage? = nil,
        progress: (SyncProgress) -> Void
    ) async throws {
        // The next page, asked for while this one is applied (sync-protocol.md §6.1 pipelining):
        // the hub builds page n + 1 while page n is written here. Never left running: a failure
        // waits for it (its answer is discarded; the pages built on an unapplied page are
        // superseded at the hub like any page never acknowledged).
        var ahead: Task<PulledPage, any Error>?
        // A replica filling from nothing loads without its secondary indexes and builds them
        // once at the end (`ReplicaStore.beginBulkLoad`); if that fails, the next open does.
        let bulk = try store.beginBulkLoad()
        var last = SyncProgress(received: 0, pages: 0, cursor: 0, head: head)
        do {
            try await pullPages(transport: transport, report: &report, head: head, pipelined: pipelined, first: first, ahead: &ahead) {
                last = $0
                progress($0)
            }
        } catch {
            if let ahead { ahead.cancel(); _ = try? await ahead.value }
            if bulk { try? store.ensureRecordIndexes() }
            // The push's answer stands whatever became of the page it carried (settling twice
            // changes nothing; a batch left unsettled would be resent and answered again).
            if let answered = first?.unsettled { try? store.transaction { try settle(answered) } }
            throw error
        }
        if bulk {
            last.indexing = true
            progress(last)
            try store.ensureRecordIndexes()
        }
    }

    private func pullPages(
        transport: any Transport, report: inout SyncReport, head: UInt64, pipelined: Bool, first: CarriedPage?,
        ahead: inout Task<PulledPage, any Error>?, progress: (SyncProgress) -> Void
    ) async throws {
        var machine = PullMachine()
        var start = try store.sync(.cursor)
        let token = self.token
        var first = first
        while true {
            // The first page came with the push: the request it answered is the one it carried.
            let request = try first?.request ?? pullRequest()

            let event: PullMachine.Event
            var refusal: ReplicaError?
            do {
                let pulled: PulledPage
                var settling: AnsweredBatch?
                if let carried = first {
                    first = nil
                    pulled = PulledPage(try carried.answer.get())
                    settling = carried.unsettled
                } else if let next = ahead {
                    ahead = nil
                    pulled = try await next.value
                } else {
                    pulled = try await Self.pull(transport, request, token: token)
                }
                let page = pulled.response
                if page.more && pipelined {
                    // Token and ack stay those of the last page applied; `received` names this one
                    // (protocol 2; a hub speaking only 1 gets one request at a time).
                    var next = request
                    next.cursor = page.cursor
                    next.conflictCursor = page.conflictCursor
                    next.received = page.token
                    next.forget = []
                    ahead = Self.ask(transport, next, token: token)
                }
                let verified = try apply(pulled, settling: settling, report: &report)
                try follow(page, report: &report)
                report.pages += 1
                progress(SyncProgress(received: report.pulled, pages: report.pages, cursor: page.cursor, head: max(head, page.cursor), total: page.visible, start: start))
                event = .applied(more: page.more, verified: verified)
                if !page.more { report.cursor = page.cursor }
            } catch let error as ReplicaError {
                guard case let .hubRefused(_, e) = error else { throw error }
                refusal = error
                event = .refused(e.code)
            } catch is PageReader.WorkspaceAhead {
                if let a = ahead { a.cancel(); _ = try? await a.value; ahead = nil }
                event = .workspaceAhead
            }

            let action = machine.on(event)
            report.repaired = report.repaired || machine.repaired
            report.diverged = report.diverged || machine.diverged
            switch action {
            case .ask:
                continue
            case .reconcile:
                let hello = try await Self.handshake(transport: transport, token: token, replica: id, workspaceVersion: workspace.version)
                _ = try store.transaction { try store.reconcile(withHead: hello.head, maxForget: ProtocolLimits.maxForget, workspace: workspace) }
            case .restart:
                try store.transaction { try store.resetForRepair() }
                start = 0
            case .migrate:
                let before = workspace.version
                try adopt(try await Self.handshake(transport: transport, token: token, replica: id, workspaceVersion: workspace.version))
                guard workspace.version > before else {
                    throw ReplicaError.hub(
                        "the hub's workspace changed while pulling and this replica could not follow it (version \(workspace.version)): run opps sync again or report it")
                }
            case .finish:
                // The sync's end (the checkpoint verified, when it ended) was in the last page's commit.
                return
            case let .fail(message):
                throw ReplicaError.hub(message)
            case .propagate:
                throw refusal ?? ReplicaError.hub("the hub refused the pull")
            }
        }
    }

    /// The pull request for what this replica holds now: the first of a pull, and the one a
    /// push carries (sync-protocol.md §5.4).
    func pullRequest() throws -> PullRequest {
        var request = PullRequest()
        request.workspaceVersion = workspace.version
        request.replica = Data(id.bytes)
        request.cursor = try store.sync(.cursor)
        request.token = try store.sync(.pullToken)
        request.conflictCursor = try store.sync(.conflictCursor)
        request.maxChanges = pageSize
        request.ack = request.cursor
        request.forget = try store.forgetList().map { Data($0.bytes) }
        request.directory = try store.meta("directory").flatMap(UInt64.init) ?? 0
        return request
    }

    /// What the hub writes because of this sync's pushed writes (`ReplicaStore.Following`): on
    /// the records of the pushed writes it logged and the deals they hang off (a request's, an
    /// activity's). Nil when the sync pushed nothing that held: a refused write has no effects (an
    /// approval refused as already decided must not hide the withdrawal before it). Worked out
    /// once a sync, at its first page (the push is over).
    func following(_ report: inout SyncReport) throws -> ReplicaStore.Following? {
        if let known = report.following { return known }
        guard let after = report.firstPushedSequence, !report.loggedIDs.isEmpty,
            let hub = try store.meta("hub").flatMap(ReplicaID.init(parsing:))
        else { return nil }
        var records = report.loggedIDs
        for id in report.loggedIDs {
            if case let .reference(deal)? = try store.view(id, workspace: workspace)?["opportunity"] { records.insert(deal) }
        }
        report.following = ReplicaStore.Following(hub: hub, records: records, after: after)
        return report.following
    }

    /// A pull sent on its own task (pipelining).
    static func ask(_ transport: any Transport, _ request: PullRequest, token: String) -> Task<PulledPage, any Error> {
        Task { try await pull(transport, request, token: token) }
    }

    /// Decodes a page and applies it in one transaction: nothing of a page that names a field
    /// this workspace lacks is applied (`PageReader.WorkspaceAhead`). A page that turns out
    /// malformed as it is read (its whole records are read only here: `Transport.pull`) is the
    /// hub's refusal, as one the transport could not decode is.
    ///
    /// The same commit settles the batch whose answer carried the page (`settling`) — when the
    /// page cannot be applied, the settle is committed alone — and, on the last page, verifies
    /// the replica against the page's checkpoint and ends the sync: the checkpoint and when the
    /// sync ended are kept when it matches. Returns whether it matched (true before the last
    /// page and when the page carries no checkpoint).
    func apply(_ page: PulledPage, settling: AnsweredBatch? = nil, report: inout SyncReport) throws -> Bool {
        let received: ReceivedPage
        do {
            received = try PageReader(page, numbering: WireNumbering(workspace)).received(workspace: workspace)
        } catch {
            if let settling { try store.transaction { try settle(settling) } }
            if let e = error as? WireError { throw ReplicaError.hubRefused(status: 200, e) }
            throw error
        }
        var failure: (any Error)?
        var verified = true
        func applyPage() throws {
            let applied = try store.applied(received, replica: id, user: user, workspace: workspace, following: try following(&report))
            report.pulled += applied.received
            report.news += applied.news
            report.newRecordCount += applied.newRecordCount
            report.newRecords += applied.newRecords.prefix(ReplicaStore.Applied.newRecordsKept - report.newRecords.count)
            report.goneCount += applied.goneIDs.count
            report.gone += applied.gone.prefix(ReplicaStore.Applied.newRecordsKept - report.gone.count)
            try store.noteTakenOff(applied.goneIDs.map { ($0, .left) }, at: physical.nowMilliseconds())
            // Each own write once: not those the push's answer already counted, nor twice.
            for write in applied.ownConflicts where report.lost.insert(write).inserted { report.overruled += 1 }
            report.heldOver += applied.heldOver
            for change in received.changes { clock.receive(change.stamp.hlc, physical: physical.nowMilliseconds()) }
            try store.setSync(.hlc, clock.last.rawValue)
            try store.setForgetList([])
            // The hub's users' names, when the page carries them (protocol 6): kept with the page.
            if page.response.directory != 0 {
                try store.setMeta("users", page.response.users.joined(separator: "\n"))
                try store.setMeta("directory", String(page.response.directory))
            }
            guard !page.response.more else { return }
            // Verify: what we hold must be what the hub says we should hold.
            let checkpoint = page.response.checkpoint
            verified = try !page.response.hasCheckpoint || store.confirmedChecksum(workspace: workspace) == checkpoint.checksum
            if verified {
                if page.response.hasCheckpoint { try store.setMeta("checkpoint", "\(checkpoint.sequence):\(checkpoint.checksum)") }
                try store.setMeta(Replica.lastSyncKey, String(physical.nowMilliseconds()))
                try dropUnconfirmed(report: &report)
            }
        }
        try store.transaction {
            guard let settling else { return try applyPage() }
            try settle(settling)
            do {
                try store.savepoint(applyPage)
            } catch let lost as SavepointLost {
                throw lost  // part of the page would commit with the settle: neither may
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return verified
    }
}

extension Replica {
    /// At a pull's end, with the hub's head reached and the checkpoint agreed: a record made here
    /// that the hub has not confirmed and that has nothing left to send is one the hub keeps from
    /// this replica — deleted before this replica held it (an older copy whose create the other
    /// copy had sent, sync-protocol.md §5.5), or not its user's to see. The hub will never send
    /// it, so it would stay here as a live record nobody else has: it goes, said as a deal that
    /// left (`SyncReport.gone`). A pull from nothing that ends here also names the deals held
    /// before it that it did not bring back (`ReplicaStore.endResync`). Run inside the last
    /// page's transaction.
    func dropUnconfirmed(report: inout SyncReport) throws {
        var gone = [(RecordID, ReplicaStore.Gone)]()
        for record in try store.unconfirmedWithNothingToSend(workspace: workspace) {
            try store.remove(record.id)
            guard workspace.entity(record.entity)?.stageField != nil, !record.isDeleted else { continue }
            gone.append((record.id, ReplicaStore.Gone(name: record["name"].isNull ? "" : record["name"].canonicalText, reason: .madeHere)))
        }
        // A pull from nothing that ended: the deals held before it that it did not bring back.
        gone += try store.endResync(workspace: workspace)
        try store.noteTakenOff(gone.map { ($0.0, $0.1.reason) }, at: physical.nowMilliseconds())
        let lines = gone.map(\.1)
        report.goneCount += lines.count
        report.gone += lines.prefix(max(0, ReplicaStore.Applied.newRecordsKept - report.gone.count))
    }
}
