import Foundation
import OppsCore
import OppsStore
import OppsWire

/// Push (sync-protocol.md §5): idempotent batches decided by the core's `BatchDecider`,
/// whose effects are applied here inside the batch's transaction.
extension HubEngine {
    // MARK: Push

    /// `received`: the request's protobuf bytes as they came (nil when it came as JSON, or from
    /// a caller that has only the message); its idempotency digest is taken over them.
    public func push(user: HubUser, request: PushRequest, received: [UInt8]? = nil, activity: inout HubActivity) throws -> PushResponse {
        var response = try store.transaction { try onSharedClock { try applyPush(user: user, request: request, received: received, activity: &activity) } }
        answerCarriedPull(of: request, user: user, into: &response, activity: &activity)
        return response
    }

    /// Group commit: the pushes that queued up while the last commit waited for the disk, in one
    /// transaction and one fsync. Each push runs in its own savepoint, in order, seeing the ones
    /// before it; one that fails is undone alone and fails alone. If the commit itself fails,
    /// every push fails and nothing of any is kept. `committed` hears of every group, whatever
    /// became of its pushes (its size and times: the sequencer's ceiling, in metrics).
    /// `syncedLater`: the commit may return before it is on disk (`transactionSyncedLater`); the
    /// caller answers no one before the store's `laterSync` has made it durable.
    public func push(
        group: [(user: HubUser, request: PushRequest, received: [UInt8]?)], syncedLater: Bool = false, committed: (GroupCommit) -> Void = { _ in }
    ) -> [Result<(PushResponse, HubActivity), any Error>] {
        let store = self.store
        func transaction(_ body: () throws -> Void) throws {
            if syncedLater { try store.transactionSyncedLater(body) } else { try store.transaction(body) }
        }
        var results = [Result<(PushResponse, HubActivity), any Error>]()
        let start = ContinuousClock.now
        defer { committed(GroupCommit(pushes: group.count, sequencerWait: store.sequencerWait, duration: ContinuousClock.now - start)) }
        // First without savepoints (two statements a push, each a round trip on PostgreSQL, on
        // the thread that sequences every push): pushes rarely fail. If one does, nothing of the
        // group is kept, and the group runs again, each push in its savepoint. A group of one has
        // nothing else to keep: its failure is its answer.
        // `together`: the last push's writes and the shared clock's go as one statement.
        do {
            try transaction {
                try store.together { try onSharedClock { try pushEach(group, savepoints: false, into: &results) } }
            }
            return results
        } catch let failed as PushFailed where group.count == 1 {
            return [.failure(failed.underlying)]
        } catch is PushFailed {
            results.removeAll()
        } catch {
            return group.map { _ in .failure(error) }
        }
        do {
            try transaction {
                try onSharedClock { try pushEach(group, savepoints: true, into: &results) }
            }
        } catch {
            return group.map { _ in .failure(error) }
        }
        return results
    }

    /// The batch of a push request: without the pull it carries (sync-protocol.md §5.4).
    static func batchContent(_ request: PushRequest) -> PushRequest {
        guard request.hasPull else { return request }
        var batch = request
        batch.clearPull()
        return batch
    }

    /// The pull a push carries (protocol 5, sync-protocol.md §5.4), answered once the push has
    /// committed, as a pull of its own would be: into `response.pull`, or its refusal into
    /// `response.pullError` — the push's results stand either way.
    public func answerCarriedPull(of request: PushRequest, user: HubUser, into response: inout PushResponse, activity: inout HubActivity) {
        guard request.hasPull else { return }
        do {
            response.pull = try pull(user: user, request: request.pull, activity: &activity)
        } catch {
            let answer = WireError.answering(error)
            response.pullError = answer.body
            if answer.code == .internal { activity.carriedPullFailure = String(reflecting: error) }
        }
    }

    /// A push of a group run without savepoints failed: the group's transaction must not commit.
    private struct PushFailed: Error {
        let underlying: any Error
    }

    private func pushEach(
        _ group: [(user: HubUser, request: PushRequest, received: [UInt8]?)], savepoints: Bool,
        into results: inout [Result<(PushResponse, HubActivity), any Error>]
    ) throws {
        for (user, request, received) in group {
            var activity = HubActivity()
            guard savepoints else {
                do {
                    let response = try applyPush(user: user, request: request, received: received, activity: &activity)
                    results.append(.success((response, activity)))
                } catch {
                    throw PushFailed(underlying: error)
                }
                continue
            }
            let before = sequenced
            do {
                let response = try store.savepoint { try applyPush(user: user, request: request, received: received, activity: &activity) }
                results.append(.success((response, activity)))
            } catch let lost as SavepointLost {
                throw lost  // part of a failed push would commit with the others: none may
            } catch {
                sequenced = before  // what it took is undone: the next push takes it again
                results.append(.failure(error))
            }
        }
    }

    /// The replica an older copy of which made the batch's writes (`recovered_from`,
    /// sync-protocol.md §5.5): another replica of the same user; nil when the batch names none.
    func olderCopy(of request: PushRequest, replica: ReplicaID, user: HubUser) throws -> ReplicaID? {
        guard !request.recoveredFrom.isEmpty else { return nil }
        let old = try replicaID(request.recoveredFrom)
        guard old != replica else { throw WireError(.malformedBody, "recovered_from names the batch's own replica") }
        guard let row = try store.replica(old) else { throw WireError(.malformedBody, "recovered_from names no replica this hub knows") }
        guard row.user == user.name else { throw WireError(.replicaNotYours, "recovered_from names another user's replica") }
        return old
    }

    /// One push's checks and decisions, inside the caller's transaction.
    func applyPush(user: HubUser, request: PushRequest, received: [UInt8]?, activity: inout HubActivity) throws -> PushResponse {
        try refreshDirectory(marker: sequenced?.marker)
        let user = try confirmed(user)
        guard request.writes.count <= configuration.maxBatchWrites else {
            throw WireError(.batchTooLarge, "at most \(configuration.maxBatchWrites) writes per batch")
        }
        var replica = try ownReplica(request.replica, user: user)
        if request.workspaceVersion > workspace.version {
            throw WireError(.workspaceOutdated, "the batch names workspace \(request.workspaceVersion); the hub has \(workspace.version)")
        }
        // A carried pull asks for this replica's pages: it names this replica (§5.4).
        if request.hasPull, request.pull.replica != request.replica {
            throw WireError(.malformedBody, "the pull a push carries names another replica")
        }
        // Over the bytes as received when it came as protobuf (sync-protocol.md §5.2), not over
        // the message encoded again; without the pull it carries, which is not the batch's (§5.4).
        let digest = Token.digest(try received.map(CarriedPull.batchContent) ?? BodyCodec.encode(Self.batchContent(request), as: .protobuf))
        // Batches are numbered from 1 (§5.2): a 0 is no batch, not one applied long ago.
        guard request.batch > 0 else { throw WireError(.malformedBody, "batch numbers start at 1") }
        if request.batch <= replica.lastBatch {
            guard let stored = try store.batch(replica: replica.id, number: request.batch) else {
                throw WireError(
                    .batchMismatch, "batch \(request.batch) was applied long ago; the hub keeps the answers of a replica's last \(Self.keptAnswers) batches")
            }
            guard stored.digest == digest else {
                throw WireError(.batchMismatch, "batch \(request.batch) was already applied with different writes")
            }
            var response = try BodyCodec.decode(PushResponse.self, from: stored.response, as: .protobuf)
            response.replayed = true
            activity.replayed = true
            return response
        }
        guard request.batch == replica.lastBatch + 1 else {
            throw WireError(.batchOutOfOrder, "expected batch \(replica.lastBatch + 1), got \(request.batch)")
        }
        let olderCopy = try olderCopy(of: request, replica: replica.id, user: user)
        let items = try BatchCoding.decode(request, author: user.name, workspace: workspace).items
        let actor = Actor(user: user.name, role: user.role)
        let hubTime = now
        let workspace = self.workspace
        let store = self.store
        // A large push's rows (its log entries, the records it has finished with) are written on
        // a second thread while its later writes are decided; from here on, the store is touched
        // only through `writer` or after settling it (`RowWriter`).
        let writer = items.count >= configuration.rowsBesideDecisionsFrom ? rowWriter : nil
        defer { writer?.settleQuietly() }
        var reader = StoreReader(store: store, workspace: workspace, knownHead: sequenced?.head, knownConflictHead: sequenced?.conflictHead)
        reader.writer = writer
        var decider = BatchDecider(
            reader: reader, workspace: workspace, directory: directory, clock: clock,
            hubReplica: hubReplica, hubTime: hubTime, maxClockAhead: configuration.maxClockAheadMilliseconds)
        decider.olderCopy = olderCopy
        var results = [WriteResult]()
        results.reserveCapacity(items.count)
        // The push's log entries, written together once its decisions are done (multi-row
        // statements) or, with a writer, a few hundred at a time beside them: nothing in a push
        // reads the log back after its first sequence number.
        var appended = [LogEntry]()
        var handedOver = false
        // The log entries so far and the records changed so far but `keep`, to the writer.
        func handOver(keeping keep: RecordID?) throws {
            guard writer != nil, !appended.isEmpty else { return }
            try write(appended, decider.takeChanged(except: keep), hubTime: hubTime, writer: writer)
            appended.removeAll(keepingCapacity: true)
        }
        try decider.prefetch(items.map(\.record))
        for item in items {
            let verdict =
                switch item {
                case let .unknown(record, entity, field, rule, stamp):
                    try decider.rejectUnknown(record: record, entityNumber: entity, fieldNumber: field, rule: rule, stamp: stamp, actor: actor)
                case let .write(w):
                    try decider.decide(w, actor: actor)
                }
            try decider.drain { try apply($0, hubTime: hubTime, log: &appended, writer: writer) }
            if writer != nil, appended.count >= (handedOver ? Self.rowsHandedOver : Self.firstRowsHandedOver) {
                try handOver(keeping: item.record)
                handedOver = true
            }
            activity.outcomes[verdict.decision.outcome, default: 0] += 1
            results.append(WriteResult(verdict))
        }
        // The records the batch changed (a team membership is saved at once, in `drain`: the
        // next write's reads need it), written together after the log entries.
        var changed = [Record]()
        for effect in decider.finish() {
            if case let .save(record) = effect { changed.append(record) } else { try apply(effect, hubTime: hubTime, log: &appended, writer: writer) }
        }
        if let writer {
            // The last rows are written while the answer is made.
            try write(appended, changed, hubTime: hubTime, writer: writer)
            appended.removeAll()
        }
        var response = PushResponse()
        response.batch = request.batch
        response.results = results
        // The decider's last sequence is the head: it holds the sequencer and appended last.
        response.head = try decider.head ?? reader.head()
        replica.lastBatch = request.batch
        replica.lastSeenMilliseconds = hubTime
        let answer = try BodyCodec.encode(response, as: .protobuf)
        try writer?.settle()
        // The push's rows, each table's written once: on PostgreSQL one statement, one round trip.
        try store.together {
            if writer == nil {
                if !appended.isEmpty { try store.append(appended, hubMilliseconds: hubTime) }
                if !changed.isEmpty { try store.saveRecords(changed, workspace: workspace) }
            }
            try store.saveBatch(replica: replica.id, number: request.batch, digest: digest, response: answer)
            // Each replica's last `keptAnswers` answers at least, its older ones forgotten every
            // `keptAnswers` batches: the table no longer grows with every push ever made.
            if request.batch % Self.keptAnswers == 0 {
                try store.forgetBatches(replica: replica.id, through: request.batch - Self.keptAnswers)
            }
            try store.saveReplica(replica)
        }
        clock = decider.clock
        if let head = decider.head { sequenced?.head = head }
        if let id = decider.conflictHead { sequenced?.conflictHead = id }
        return response
    }

    /// Writes rows a push or an import made, log entries first: on `writer`'s thread when there
    /// is one (the caller settles it before touching the store again), else now.
    func write(_ entries: [LogEntry], _ changed: [Record], hubTime: Int64, writer: RowWriter?) throws {
        let store = self.store
        let workspace = self.workspace
        guard let writer else {
            if !entries.isEmpty { try store.append(entries, hubMilliseconds: hubTime) }
            if !changed.isEmpty { try store.saveRecords(changed, workspace: workspace) }
            return
        }
        writer.submit {
            if !entries.isEmpty { try store.append(entries, hubMilliseconds: hubTime) }
            if !changed.isEmpty { try store.saveRecords(changed, workspace: workspace) }
        }
    }

    /// How many of a replica's last answers the hub keeps at least (sync-protocol.md §5.2 asks
    /// for the last one): a replica resends only its one unanswered batch.
    static let keptAnswers: UInt64 = 16

    /// Log entries handed to the row writer at a time: large enough that handing over costs
    /// little, small enough that the writer starts early.
    static let rowsHandedOver = 128
    /// The first hand-over of a push comes sooner: until then the writer has nothing to do.
    static let firstRowsHandedOver = 32

    /// Applies one of a decider's effects to the store, inside the caller's transaction.
    func apply(_ effect: HubEffect, hubTime: Int64) throws {
        var log = [LogEntry]()
        try apply(effect, hubTime: hubTime, log: &log)
        if !log.isEmpty { try store.append(log, hubMilliseconds: hubTime) }
    }

    /// The same, a log entry kept in `log` for the caller to append with the others; any other
    /// effect written at once, after the rows handed to `writer` (the decider reads next what
    /// it wrote: a team, a conflict head).
    func apply(_ effect: HubEffect, hubTime: Int64, log: inout [LogEntry], writer: RowWriter? = nil) throws {
        if case let .append(entry) = effect { return log.append(entry) }
        try writer?.settle()
        switch effect {
        case .append: break  // kept in `log`, above
        case let .conflict(c, owner):
            let id = try store.addConflict(c, owner: owner, hubMilliseconds: hubTime)
            guard id == c.id else { throw WireError(.internal, "conflict \(c.id) was stored as \(id)") }
        case let .save(record): try store.saveRecord(record, workspace: workspace)
        case let .meta(key, value): try store.setMeta(key, value)
        }
    }

    func apply(_ effects: [HubEffect], hubTime: Int64) throws {
        for effect in effects { try apply(effect, hubTime: hubTime) }
    }
}
