import Foundation
import OppsCore
import OppsStore
import OppsWire
import SwiftProtobuf

/// Pulling pages (pipelined), applying them (`PageReader`), and the checkpoint's repair path.
extension Replica {
    func pull(transport: any Transport, report: inout SyncReport, head: UInt64, pipelined: Bool, progress: (SyncProgress) -> Void) async throws {
        // The next page, asked for while this one is applied (sync-protocol.md §6.1 pipelining):
        // the hub builds page n + 1 while page n is written here. Never left running: a failure
        // waits for it (its answer is discarded; the pages built on an unapplied page are
        // superseded at the hub like any page never acknowledged).
        var ahead: Task<PullResponse, any Error>?
        do {
            try await pullPages(transport: transport, report: &report, head: head, pipelined: pipelined, ahead: &ahead, progress: progress)
        } catch {
            if let ahead { ahead.cancel(); _ = try? await ahead.value }
            throw error
        }
    }

    private func pullPages(
        transport: any Transport, report: inout SyncReport, head: UInt64, pipelined: Bool, ahead: inout Task<PullResponse, any Error>?,
        progress: (SyncProgress) -> Void
    ) async throws {
        var repairing = false
        var migrations = 0
        var start = try store.sync(.cursor)
        let token = self.token
        while true {
            var request = PullRequest()
            request.workspaceVersion = workspace.version
            request.replica = Data(id.bytes)
            request.cursor = try store.sync(.cursor)
            request.token = try store.sync(.pullToken)
            request.conflictCursor = try store.sync(.conflictCursor)
            request.maxChanges = pageSize
            request.ack = request.cursor
            request.forget = try store.forgetList().map { Data($0.bytes) }
            let page: PullResponse
            do {
                if let next = ahead {
                    ahead = nil
                    page = try await next.value
                } else {
                    page = try await Self.call(transport, Endpoint.pull, request, token: token, as: PullResponse.self)
                }
            } catch ReplicaError.hubRefused(_, let e) where e.code == .cursorAhead {
                // The hub was restored from a backup and is behind us: keep what it still has,
                // drop what it lost, and have those sent whole again (sync-protocol.md §6.3).
                let hello = try await Self.handshake(transport: transport, token: token, replica: id, workspaceVersion: workspace.version)
                try store.transaction { try reconcile(withHead: hello.head) }
                report.repaired = true
                continue
            } catch ReplicaError.hubRefused(_, let e) where e.code == .workspaceOutdated {
                try await migrate(transport: transport, attempt: &migrations)
                continue
            } catch ReplicaError.hubRefused(_, let e) where e.code == .cursorExpired {
                // The hub compacted past us: re-sync from nothing, keeping pending writes.
                try store.transaction { try resetForRepair() }
                start = 0
                report.repaired = true
                continue
            }
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
            do {
                try store.transaction {
                    try apply(page, report: &report)
                    try store.setForgetList([])
                }
            } catch is PageReader.WorkspaceAhead {
                // Nothing of the page was applied: get the workspace that names its fields, ask again.
                if let a = ahead { a.cancel(); _ = try? await a.value; ahead = nil }
                try await migrate(transport: transport, attempt: &migrations)
                continue
            }
            report.pages += 1
            progress(SyncProgress(received: report.pulled, pages: report.pages, cursor: page.cursor, head: max(head, page.cursor), total: page.visible, start: start))
            if page.more { continue }
            // Verify: what we hold must be what the hub says we should hold.
            let sum = try confirmedChecksum()
            if page.hasCheckpoint, sum.value != page.checkpoint.checksum {
                if repairing { throw ReplicaError.hub("the replica still differs from the hub after a repair; run opps sync again or report it") }
                repairing = true
                report.repaired = true
                try store.transaction { try resetForRepair() }
                start = 0
                continue
            }
            report.cursor = page.cursor
            try store.setMeta("checkpoint", "\(page.checkpoint.sequence):\(page.checkpoint.checksum)")
            return
        }
    }

    /// Handshakes for the hub's newer workspace in the middle of a pull; a hub that keeps
    /// answering `workspace-outdated` after that is reported, not retried forever.
    func migrate(transport: any Transport, attempt: inout Int) async throws {
        attempt += 1
        let before = workspace.version
        try adopt(try await Self.handshake(transport: transport, token: token, replica: id, workspaceVersion: workspace.version))
        guard workspace.version > before, attempt <= 3 else {
            throw ReplicaError.hub(
                "the hub's workspace changed while pulling and this replica could not follow it (version \(workspace.version)): run opps sync again or report it")
        }
    }

    /// A pull sent on its own task (pipelining).
    static func ask(_ transport: any Transport, _ request: PullRequest, token: String) -> Task<PullResponse, any Error> {
        Task { try await call(transport, Endpoint.pull, request, token: token, as: PullResponse.self) }
    }

    /// Keeps every confirmed record the hub still has (all its states at or below `head`),
    /// drops the rest and asks for them again; pending writes stay.
    func reconcile(withHead head: UInt64) throws {
        var dropped = [RecordID]()
        for record in try store.allConfirmed(workspace: workspace) {
            let states = [record.created] + Array(record.fields.values) + (record.deleted.map { [$0] } ?? [])
            if states.contains(where: { $0.sequence > head }) {
                try store.remove(record.id)
                dropped.append(record.id)
            }
        }
        // A hub forgets at most so many records per pull (sync-protocol.md §6.3): beyond, re-sync.
        if dropped.count > ProtocolLimits.maxForget {
            try resetForRepair()
            return
        }
        try store.setSync(.cursor, min(head, try store.sync(.cursor)))
        try store.setSync(.pullToken, 0)
        try store.setForgetList(dropped)
        try store.setChecksum(StateChecksum(of: try store.allConfirmed(workspace: workspace), workspace: workspace).value)
    }

    /// The checksum of the confirmed state, as kept by `apply` (computed in full once if absent).
    func confirmedChecksum() throws -> RunningChecksum {
        if let v = try store.checksum() { return RunningChecksum(value: v) }
        let full = StateChecksum(of: try store.allConfirmed(workspace: workspace), workspace: workspace)
        try store.setChecksum(full.value)
        return RunningChecksum(value: full.value)
    }

    func resetForRepair() throws {
        try store.setChecksum(0)
        try store.forgetConfirmed()
        try store.setSync(.cursor, 0)
        // The token stays: a restart echoes the last page received, so the hub can tell it from
        // a late copy of an older restart (sync-protocol.md §6.1).
        // Pending writes stay; their records are rebuilt when the hub's state arrives.
    }

    func apply(_ page: PullResponse, report: inout SyncReport) throws {
        let numbering = WireNumbering(workspace)
        let reader = PageReader(page, numbering: numbering)
        // The checksum of the confirmed state is kept up to date incrementally: each touched
        // record's old term goes out and its new term comes in (merge-semantics.md §8).
        var sum = try confirmedChecksum()
        var oldTerms = [RecordID: UInt64]()
        var allIDs = page.left.compactMap { RecordID(bytes: $0) } + page.entered.compactMap { RecordID(bytes: $0.record) }
        allIDs += page.changes.compactMap { RecordID(bytes: $0.record) }
        let held = try store.withConfirmed(allIDs)
        for id in allIDs where oldTerms[id] == nil {
            oldTerms[id] = held.contains(id) ? try store.confirmed(id, workspace: workspace).map { StateChecksum.term(of: $0, numbering: numbering) } ?? 0 : 0
        }
        var touched = Set<RecordID>()
        var records = [RecordID: Record]()
        func load(_ id: RecordID) throws -> RecordSet {
            var set = RecordSet()
            if let r = records[id] { set.put(r) } else if let r = try store.confirmed(id, workspace: workspace) { set.put(r) }
            return set
        }
        for raw in page.left {
            guard let id = RecordID(bytes: raw) else { continue }
            try store.remove(id)
            records[id] = nil
            touched.insert(id)
        }
        for e in page.entered {
            guard let id = RecordID(bytes: e.record) else { continue }
            if let r = try reader.record(e) {
                // A record this laptop held that comes whole again (its visible fields changed):
                // each field whose value moved goes on the trail, as a change would.
                if held.contains(id), let old = try store.confirmed(id, workspace: workspace) {
                    for (name, state) in r.fields.sorted(by: { $0.value.sequence < $1.value.sequence }) where old[name] != state.value && state.stamp.replica != self.id {
                        try store.addHistory(
                            HistoryLine(
                                record: id, field: name, old: old[name], new: state.value, author: state.author, hlc: state.stamp.hlc,
                                source: "hub", rule: ""))
                    }
                }
                records[id] = r
            }
            touched.insert(id)
            report.pulled += 1
        }
        for c in page.changes {
            guard let le = try reader.entry(c) else { continue }
            var set = try load(le.record)
            let before = set[le.record]?.fields[le.field]?.value ?? .null
            set.apply(le)
            if let r = set[le.record] { records[le.record] = r }
            touched.insert(le.record)
            clock.receive(le.stamp.hlc, physical: physical.nowMilliseconds())
            // This laptop's own writes have their line already (settled when the push was answered).
            if le.kind == .set, le.stamp.replica != self.id, le.author != user || before != le.value {
                try store.addHistory(
                    HistoryLine(
                        record: le.record, field: le.field, old: before, new: le.value, author: le.author, hlc: le.stamp.hlc,
                        source: "hub", rule: ""))
            } else if le.kind == .delete {
                // A delete reaches only a replica that held the record (§7.2): its trail says so.
                try store.addHistory(
                    HistoryLine(
                        record: le.record, field: "", old: .null, new: .null, author: le.author, hlc: le.stamp.hlc,
                        source: "hub", rule: RuleID.delete.rawValue))
            }
            report.pulled += 1
        }
        for record in records.values {
            try store.save(confirmed: record, view: record, workspace: workspace)
        }
        for (id, old) in oldTerms {
            sum.value &-= old
            if let now = records[id] { sum.value &+= StateChecksum.term(of: now, numbering: numbering) }
        }
        try store.setChecksum(sum.value)
        // Only records with writes still in the outbox need their view rebuilt (rebase);
        // the others' view is the confirmed state just saved.
        let pendingRecords = try store.recordsWithPendingWrites()
        for id in touched where records[id] != nil && pendingRecords.contains(id) { try rebuildView(id) }
        for c in page.conflicts {
            guard let conflict = try reader.conflict(c, workspace: workspace) else { continue }
            let record = conflict.record
            try store.addConflict(conflict)
            try store.addHistory(
                HistoryLine(
                    record: record, field: conflict.field, old: conflict.value, new: conflict.winner ?? .null, author: conflict.author,
                    hlc: conflict.hlc, source: "conflict", rule: conflict.rule))
        }
        try store.setSync(.cursor, page.cursor)
        try store.setSync(.pullToken, page.token)
        try store.setSync(.conflictCursor, page.conflictCursor)
        try store.setSync(.hlc, clock.last.rawValue)
    }
}
