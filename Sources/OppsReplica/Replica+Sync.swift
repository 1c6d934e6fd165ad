import Foundation
import OppsCore
import OppsStore
import OppsWire
import SwiftProtobuf

/// The sync engine: handshake, push of the outbox (a stored batch is resent as stored), then pull.
extension Replica {
    // MARK: Sync

    /// Push the outbox, then pull until up to date, then verify the checkpoint.
    public func sync(transport: any Transport, progress: (SyncProgress) -> Void = { _ in }) async throws -> SyncReport {
        var report = SyncReport()
        // What the sync opens with, read in one transaction (each statement outside one is a
        // transaction of its own: its locks taken and released).
        let (opening, copied) = try store.transaction { () -> (UInt32?, Bool) in
            let spoken = try spoken()
            return (try opensWithoutHandshake(spoken: spoken) ? spoken : nil, try spoken >= 7 && isCopiedFile())
        }
        // A folder copied, or restored from a backup, is an older copy of its replica (§5.5):
        // known by its file, it goes on as a new replica before it sends or asks for anything
        // (from nothing then: the sync goes the long way).
        if copied, try await takeNewID(transport: transport) { report.tookNewID = true }
        if let spoken = opening, !report.tookNewID {
            // The push, if there is anything to push, then the pull (sync-protocol.md §3,
            // protocol 4). What only a handshake can mend — a hub that no longer knows this
            // replica, or was restored to before some of its batches — is refused before anything
            // of that request is applied; then the sync goes the long way, and what was already
            // pushed or pulled stands (a push is answered once, a page applied once).
            do {
                let carried = try await push(transport: transport, report: &report, carry: spoken >= 5)
                try await pull(transport: transport, report: &report, head: try store.sync(.cursor), pipelined: true, first: carried, progress: progress)
                return report
            } catch let ReplicaError.hubRefused(_, e) where Self.handshakeMends.contains(e.code) {}
        }
        let hello: HandshakeResponse
        do {
            hello = try await Self.handshake(transport: transport, token: token, replica: id, workspaceVersion: workspace.version)
        } catch let error as ReplicaError {
            // A hub rolled back to an older version: no sync opens with its pull until one settles again.
            if case let .hubRefused(_, e) = error, e.code == .protocolVersionUnsupported { try store.setMeta("protocol", "") }
            throw error
        }
        try remember(protocol: hello.version)
        try adopt(hello)
        try flagCheckins(hubTime: hello.hubTime, report: &report)
        if hello.role != role {
            // The operator changed this user's role: local checks follow at once.
            try store.setMeta("role", hello.role)
            role = hello.role
        }
        try alignBatches(hubLastBatch: hello.lastBatch)
        let carried = try await push(transport: transport, report: &report, carry: hello.version >= 5)
        try await pull(transport: transport, report: &report, head: hello.head, pipelined: hello.version >= 2, first: carried, progress: progress)
        return report
    }

    /// Whether this sync may skip the handshake (sync-protocol.md §3): the last handshake with
    /// this hub settled on protocol 4 or later (`spoken`), the replica has pulled before, and no check-in
    /// waits to go out (it is checked against the hub's clock, which the handshake tells).
    func opensWithoutHandshake(spoken: UInt32) throws -> Bool {
        guard spoken >= 4, try store.sync(.cursor) > 0 else { return false }
        return try store.outboxCount() == 0 || waitingCheckins().isEmpty
    }

    /// The protocol version the last handshake with this hub settled on (0: none remembered),
    /// when that handshake offered the versions this build speaks: a replica updated to a newer
    /// protocol handshakes once, so the hub learns it (sync-protocol.md §3).
    func spoken() throws -> UInt32 {
        guard try store.meta("protocol_offered") == String(ProtocolVersion.current) else { return 0 }
        return try store.meta("protocol").flatMap(UInt32.init) ?? 0
    }

    /// Refusals to a sync without a handshake that a handshake mends: the hub does not know the
    /// replica, was restored to before some of its batches, or has an older workspace.
    static let handshakeMends: Set<WireError.Code> = [.handshakeRequired, .batchOutOfOrder, .workspaceOutdated]

    /// The protocol version the last handshake settled on, while it is the hub's URL and token
    /// that said it (`connect` says it again for new ones).
    func remember(protocol version: UInt32) throws {
        if try spoken() != version {
            try store.transaction { for (k, v) in Self.protocolMeta(settled: version) { try store.setMeta(k, v) } }
        }
    }

    /// What a replica keeps of a handshake's version: the one settled on, and the highest it
    /// offered (this build's).
    static func protocolMeta(settled version: UInt32) -> [(String, String)] {
        [("protocol", String(version)), ("protocol_offered", String(ProtocolVersion.current))]
    }

    /// A page says what a handshake would (protocol 4): the user's role now, the hub's clock.
    func follow(_ page: PullResponse, report: inout SyncReport) throws {
        if page.hubTime != 0 { report.clockSkewMilliseconds = page.hubTime - physical.nowMilliseconds() }
        if !page.role.isEmpty, page.role != role {
            // The operator changed this user's role: local checks follow at once.
            try store.setMeta("role", page.role)
            role = page.role
        }
    }

    /// Takes the newer workspace a handshake carries (field numbers never change, so what this
    /// replica holds stays valid; records whose visible fields change come whole at the next pull).
    /// A workspace this build cannot read (a key a newer hub knows) is said as what it is — this
    /// opps is older than the hub's workspace — not as a pull that could not follow it.
    func adopt(_ hello: HandshakeResponse) throws {
        guard !hello.workspace.isEmpty else { return }
        let (ws, document) = try Self.readable(hello.workspace, atInit: false)
        if ws.version > workspace.version {
            try store.setMeta("workspace", document)
            workspace = ws
        }
    }

    /// The workspace a handshake sent, or why this build cannot take it (`atInit`: for `opps
    /// init`, which then makes no replica).
    static func readable(_ bytes: Data, atInit: Bool) throws -> (Workspace, String) {
        guard let document = String(data: bytes, encoding: .utf8) else { throw ReplicaError.hub("the hub sent a workspace that is not UTF-8 text") }
        do {
            return (try Workspace.decode(document), document)
        } catch {
            // The problem alone: the keys this build knows (an unknown key's message lists them)
            // mean nothing to a rep.
            let first = error.issues.first?.brief
            throw ReplicaError.invalid(
                "this opps cannot read the hub's workspace (\(first?.message ?? "\(error)")): the hub uses a newer "
                    + "workspace format; update opps to the version the hub runs (ask the operator), then "
                    + (atInit ? "run opps init again; no replica was made" : "sync again; your work is kept"),
                chinese: "这个版本的 opps 读不懂中心的工作区（\(first?.chinese ?? "\(error)")）：中心用的是更新的工作区格式；"
                    + "请把 opps 更新到中心所用的版本（问管理员）"
                    + (atInit ? "后再运行 opps init；没有建副本" : "后再同步；本机的工作都保留着"))
        }
    }

    /// Check-ins are evidence of where a rep was and when: when this device's clock disagrees
    /// with the hub's by more than the workspace's skew, the check-ins waiting to sync get the
    /// difference written on them (`clock_skew_s`, seconds, hub minus device) before they go out.
    func flagCheckins(hubTime: Int64, report: inout SyncReport) throws {
        let skew = hubTime - physical.nowMilliseconds()
        report.clockSkewMilliseconds = skew
        guard abs(skew) > Int64(workspace.checkinSkewMinutes) * 60_000, workspace.entity("activity")?.field("clock_skew_s") != nil else { return }
        for id in try waitingCheckins() {
            try edit(id, [("clock_skew_s", .integer(skew / 1000))])
            report.flaggedCheckins += 1
        }
    }

    /// Check-ins made here and not yet sent, that no skew was written on.
    func waitingCheckins() throws -> [RecordID] {
        let creates = try store.outbox(replica: id, author: user).filter { $0.write.kind == .create && $0.write.entity == "activity" && $0.batch == 0 }
        return try creates.compactMap { e in
            guard let a = try store.view(e.write.record, workspace: workspace), a["kind"] == .member("checkin"), a.fields["clock_skew_s"] == nil else { return nil }
            return a.id
        }
    }

    /// Where a replica that took a new id keeps the id it had and the outbox's last position then
    /// (`ID POSITION`): the writes up to there are an older copy's (sync-protocol.md §5.5).
    static let olderCopyKey = "older_copy"

    /// The replica id this one had before it took a new one, and the position of the last write
    /// it made under it; nil when it never did, or those writes have all been answered.
    func olderCopy() throws -> (id: ReplicaID, through: Int64)? {
        guard let text = try store.meta(Self.olderCopyKey), !text.isEmpty else { return nil }
        let parts = text.split(separator: " ")
        guard parts.count == 2, let old = ReplicaID(parsing: String(parts[0])), let through = Int64(parts[1]) else { return nil }
        return (old, through)
    }

    /// Where a replica keeps the number of its database file (its inode) as of when it was
    /// made or last took a new id: a copy of the folder, or one restored from a backup, has
    /// another (moving the folder within a disk keeps it).
    static let fileNumberKey = "file_number"

    /// The database file's identity: its inode number and, where the file system keeps it, the
    /// moment the file was made (`INODE:SECONDS.NANOSECONDS`). The number alone is not enough: a
    /// folder deleted and restored from a backup in the same place can get the very inode the
    /// original had (the file system hands a freed one out again), and would pass for it (found
    /// by the simulator: a laptop restored twice from one backup). By `stat` itself: Foundation's
    /// `attributesOfItem` also looks up the owner's and group's names at every sync.
    static func fileNumber(home: String) -> String? {
        var info = stat()
        let path = databasePath(home: home)
        guard stat(path, &info) == 0 else { return nil }
        return FileBirth.of(path).map {
            let nanoseconds = String($0.nanoseconds)
            return "\(info.st_ino):\($0.seconds)." + String(repeating: "0", count: max(0, 9 - nanoseconds.count)) + nanoseconds
        } ?? String(info.st_ino)
    }

    /// Whether this folder's database is not the file the replica was made in: a copy, or one
    /// restored from a backup (sync-protocol.md §5.5). A replica made before the identity was kept
    /// keeps it now and is taken as the original; one that kept the inode alone (made before the
    /// birth time was) is the original if the inode is the same, and keeps the birth time from now.
    func isCopiedFile() throws -> Bool {
        guard let now = Self.fileNumber(home: home) else { return false }
        guard let kept = try store.meta(Self.fileNumberKey) else {
            try store.setMeta(Self.fileNumberKey, now)
            return false
        }
        guard kept != now else { return false }
        let inode = { (identity: String) in identity.split(separator: ":", maxSplits: 1).first.map(String.init) ?? identity }
        // One side without a birth time (kept before it was, or a file system without one): the inode decides.
        guard kept.contains(":"), now.contains(":") else {
            if inode(kept) == inode(now), !kept.contains(":") { try store.setMeta(Self.fileNumberKey, now) }
            return inode(kept) != inode(now)
        }
        return true
    }

    /// This folder is an older copy of its replica (its file is another, or the hub answered
    /// `batch-mismatch`): it takes a new replica id, keeps its outbox to send as the older copy's writes, and syncs
    /// from nothing under the new id, as after `cursor-expired` (sync-protocol.md §5.5). False,
    /// with nothing changed, when the hub is too old to take such writes (protocol 6 or older)
    /// or the token is no longer this replica's user's.
    func takeNewID(transport: any Transport) async throws -> Bool {
        var rng = SystemRandomNumberGenerator()
        let newID = ReplicaID.random(using: &rng)
        let hello = try await Self.handshake(transport: transport, token: token, replica: newID, workspaceVersion: workspace.version)
        guard hello.version >= 7, hello.user == user else {
            // What the hub speaks, so that a hub too old is not asked again at every sync.
            if hello.user == user { try remember(protocol: hello.version) }
            return false
        }
        let old = id
        try store.transaction {
            // The writes up to here were made under the old id; a write made later is this one's.
            let through = try store.lastOutboxPosition()
            try store.setMeta("replica", newID.description)
            try store.setMeta(Self.olderCopyKey, "\(old) \(through)")
            try store.unassignBatches()
            try store.setSync(.batch, 0)
            try store.setSync(.pullToken, 0)
            try store.resetForRepair()
            if let file = Self.fileNumber(home: home) { try store.setMeta(Self.fileNumberKey, file) }
            for (k, v) in Self.protocolMeta(settled: hello.version) { try store.setMeta(k, v) }
        }
        id = newID
        return true
    }

    /// After a hub restore the hub may have applied fewer of our batches than we sent: continue
    /// numbering after its last one, renumbering an unanswered batch (sync-protocol.md §3).
    func alignBatches(hubLastBatch: UInt64) throws {
        try store.transaction {
            let counter = try store.sync(.batch)
            let pending = try store.pendingBatch()
            if let (number, bytes) = pending, number > hubLastBatch + 1 {
                var request = try BodyCodec.decode(PushRequest.self, from: bytes, as: .protobuf)
                request.batch = hubLastBatch + 1
                try store.renumber(batch: number, to: request.batch, request: try BodyCodec.encode(request, as: .protobuf))
                try store.setSync(.batch, request.batch)
            } else if pending == nil, counter > hubLastBatch {
                try store.setSync(.batch, hubLastBatch)
            }
        }
    }

    /// Sends the outbox, batch by batch. `carry`: the last batch carries the pull that follows
    /// (protocol 5, sync-protocol.md §5.4) — a sync with writes is then one exchange; its request
    /// and answer are returned for `pull`. A refusal of the carried pull is that answer, not the
    /// push's: the push's results stand.
    @discardableResult
    func push(transport: any Transport, report: inout SyncReport, carry: Bool = false) async throws -> CarriedPage? {
        var carried: CarriedPage?
        while true {
            // The batch to send and the pull it carries, read and stored in one transaction.
            let next = try store.transaction { () -> (number: UInt64, bytes: [UInt8], request: PushRequest, pull: PullRequest?)? in
                // Resend the batch that was sent but not answered, byte for byte; else make the next.
                var pending = try store.pendingBatch()
                if pending == nil {
                    var entries = try store.outbox(replica: id, author: user, limit: batchSize).filter { $0.batch == 0 }
                    // The writes an older copy of this replica made go in batches of their own,
                    // which name it (§5.5); once none is left, later ones are ordinary.
                    var older = try olderCopy()
                    if let o = older, entries.first.map({ $0.position > o.through }) ?? true {
                        try store.setMeta(Self.olderCopyKey, "")
                        older = nil
                    }
                    if let o = older { entries = entries.filter { $0.position <= o.through } }
                    if entries.isEmpty { return nil }
                    let number = try store.sync(.batch) + 1
                    var request = try BatchCoding.encode(entries.map(\.write), replica: id, batch: number, workspace: workspace)
                    if let o = older { request.recoveredFrom = Data(o.id.bytes) }
                    let bytes = try BodyCodec.encode(request, as: .protobuf)
                    try store.assign(batch: number, positions: entries.map(\.position), request: bytes)
                    try store.setSync(.batch, number)
                    pending = (number, bytes)
                }
                guard let (number, bytes) = pending else { return nil }
                // Read to match the answers to the writes; sent as stored.
                let request = try BodyCodec.decode(PushRequest.self, from: bytes, as: .protobuf)
                // The last batch (nothing else in the outbox) carries the pull, appended to the stored bytes.
                let pull = try carry && store.outboxCount() == request.writes.count ? pullRequest() : nil
                return (number, bytes, request, pull)
            }
            guard let (number, bytes, request, pull) = next else { return carried }
            let response: PushResponse
            do {
                let body = try pull.map { try CarriedPull.appending($0, to: bytes) } ?? bytes
                response = try await Self.send(transport, Endpoint.push, body: body, token: token, as: PushResponse.self)
            } catch ReplicaError.hubRefused(_, let e) where e.code == .batchMismatch {
                // The hub took a batch of this number from this replica with other writes: this
                // folder is an older copy of the replica (a laptop restored from a backup, a folder
                // copied to another one). It goes on as a new replica, and sends what it holds as
                // an older copy's writes (sync-protocol.md §5.5) — once a sync.
                if !report.tookNewID, try await takeNewID(transport: transport) {
                    report.tookNewID = true
                    continue
                }
                // A hub too old for that: keep the folder, and sync from a new replica.
                let edits = (try? store.editCount()) ?? 0
                throw ReplicaError.invalid(
                    "the hub already has batch \(number) of this replica with other edits: \(home) is an older copy of the replica (restored from a backup, or copied to another laptop), and its \(edits) edit(s) not yet synced cannot be sent. Keep this folder, make a new replica with opps init --hub \(hubURL) --token TOKEN --home ANOTHER_FOLDER, and tell the hub's operator",
                    chinese:
                        "服务器已有本副本第 \(number) 批修改，内容不同：\(home) 是副本的旧拷贝（从备份恢复，或复制到了另一台电脑），其中 \(edits) 项未同步的修改无法发送。请保留这个文件夹，用 opps init --hub \(hubURL) --token 令牌 --home 另一个文件夹 新建副本，并告诉管理员"
                )
            }
            for (i, result) in response.results.enumerated() {
                report.pushed += 1
                if i < request.writes.count, let id = RecordID(bytes: request.writes[i].record) { report.pushedIDs.insert(id) }
                if result.sequence > 0 {
                    report.firstPushedSequence = min(report.firstPushedSequence ?? result.sequence, result.sequence)
                    if i < request.writes.count, let id = RecordID(bytes: request.writes[i].record) { report.loggedIDs.insert(id) }
                }
                switch result.outcome {
                case .applied, .won: report.applied += 1
                case .lost, .rejected, .proposal:
                    report.conflicts += 1
                    if i < request.writes.count, let id = RecordID(bytes: request.writes[i].record) {
                        report.lost.insert(ReplicaStore.OwnWrite(record: id, hlc: request.hlcBase &+ request.writes[i].hlcDelta))
                    }
                default: break
                }
            }
            let answered = AnsweredBatch(number: number, request: request, response: response)
            if let pull, response.hasPull, !response.hasPullError {
                // Settled in the commit that applies the page the answer carried (`apply`); the
                // last batch carries the pull, so nothing is left to send.
                return CarriedPage(request: pull, answer: .success(response.pull), unsettled: answered)
            }
            try store.transaction { try settle(answered) }
            // A hub of protocol 4 or older leaves both unset: the pull then goes on its own.
            if let pull, response.hasPullError {
                let error = WireError(body: response.pullError)
                carried = CarriedPage(request: pull, answer: .failure(Self.refusal(status: error.code.httpStatus, error)))
            }
        }
    }

    /// Writes what the hub answered to a batch: each of this laptop's trail lines says what the
    /// hub decided (not "pending"), the batch leaves the outbox, and the views of its records
    /// are rebuilt. Run inside a transaction; running it again for the same batch changes nothing.
    func settle(_ answered: AnsweredBatch) throws {
        let (number, request, response) = (answered.number, answered.request, answered.response)
        let touched = try store.records(inBatch: number)
        var refusedCreates = Set<RecordID>()
        let numbering = WireNumbering(workspace)
        for (i, result) in response.results.enumerated() where i < request.writes.count {
            let w = request.writes[i]
            guard let record = RecordID(bytes: w.record) else { continue }
            if w.kind == .create, result.outcome == .rejected { refusedCreates.insert(record) }
            guard let outcome = result.outcome.coreOutcome else { continue }
            let field = w.kind == .delete ? "" : numbering.entity(number: w.entity)?.fieldNames[w.field] ?? ""
            let rule = outcome == .applied || outcome == .won || outcome == .duplicate ? "synced" : "\(outcome.rawValue) \(result.rule)"
            try store.settleHistory(record: record, field: field, hlc: HLC(rawValue: request.hlcBase &+ w.hlcDelta), rule: rule)
        }
        try store.complete(batch: number)
        for id in touched { try rebuildView(id, refusedCreate: refusedCreates.contains(id)) }
    }

    /// The view of a record: its confirmed state with the writes still in the outbox on top.
    func rebuildView(_ id: RecordID, refusedCreate: Bool = false) throws {
        try store.rebuildView(id, replica: self.id, author: user, workspace: workspace, refusedCreate: refusedCreate)
    }
}

/// When a file was made (`statx`'s birth time), where the file system keeps it (ext4, btrfs,
/// xfs, tmpfs do). Swift's Glibc does not declare `statx` (it needs `_GNU_SOURCE`): it is looked
/// up once by name and called with the kernel's `struct statx` layout, a stable ABI (256 bytes:
/// the mask at 0, the birth time's seconds at 80 and nanoseconds at 88).
enum FileBirth {
    private typealias Statx = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UInt32, UnsafeMutableRawPointer) -> Int32
    private static let call: Statx? = dlsym(nil, "statx").map { unsafeBitCast($0, to: Statx.self) }

    static func of(_ path: String) -> (seconds: Int64, nanoseconds: UInt32)? {
        guard let call else { return nil }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: 256)
        let atFDCWD: Int32 = -100, birth: UInt32 = 0x800  // AT_FDCWD, STATX_BTIME
        guard call(atFDCWD, path, 0, birth, buffer) == 0, buffer.load(fromByteOffset: 0, as: UInt32.self) & birth != 0 else { return nil }
        return (buffer.load(fromByteOffset: 80, as: Int64.self), buffer.load(fromByteOffset: 88, as: UInt32.self))
    }
}
