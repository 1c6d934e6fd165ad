import Foundation
import OppsCore
import OppsStore
import OppsWire

/// Pull (sync-protocol.md §6): pages of what a replica may see, built by `PullPage`.
extension HubEngine {
    // MARK: Pull

    /// Which fields of a record a user sees, as a number that changes when that set changes —
    /// or when the names on it start or stop being withheld from them (visibility.md §6): either
    /// way the replica is sent the record whole again. The fields hidden are part of it, not
    /// only what they follow from: a new workspace that hides or shows a field for the same
    /// role, stage and relations changes it too (else the replica kept what it may no longer
    /// read, and its checksum no longer matched: a repair, sending it everything again).
    /// Nothing hidden adds nothing, so such a record's number is what it was before this was.
    /// `valuesWithheld`: names in its `user` fields are withheld too (§6), which an older hub did
    /// not do: a replica it sent the record to is sent it again.
    func signature(
        role: String, relations: Set<Relation>, stage: String?, entity: String, hidden: Set<String>, namesWithheld: Bool = false, valuesWithheld: Bool = false
    ) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ s: String) { for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }; h = (h ^ 0xFF) &* 0x0000_0100_0000_01B3 }
        mix(entity)
        mix(role)
        mix(stage ?? "")
        for r in Relation.allCases where relations.contains(r) { mix(r.rawValue) }
        if namesWithheld { mix("names withheld") }
        if valuesWithheld { mix("in values") }
        if !hidden.isEmpty {
            mix("hidden")
            for f in hidden.sorted() { mix(f) }
        }
        return h
    }

    func filtered(_ record: Record, actor: Actor, relations: Set<Relation>) -> Record {
        workspace.filtered(record, actor: actor, relations: relations)
    }

    /// The same from a record's indexed columns, once per visibility signature (which names the
    /// entity, role, stage and relations it depends on).
    func hiddenFields(
        _ id: RecordID, _ c: RecordColumns, signature: UInt64?, actor: Actor, relations: (RecordID, RecordColumns) -> Set<Relation>,
        cache: inout [UInt64: Set<String>]
    ) -> Set<String> {
        if let signature, let known = cache[signature] { return known }
        let hidden = hiddenFields(entity: c.entity, stage: c.stage, actor: actor, relations: relations(id, c))
        if let signature { cache[signature] = hidden }
        return hidden
    }

    /// `Workspace.hiddenFields`, worked out once per shape (entity, role, stage, relations)
    /// for as long as the workspace stays: a carried pull of one record worked it out anew each
    /// time (a fifth of its time on the hub's thread).
    func hiddenFields(entity: String, stage: String?, actor: Actor, relations: Set<Relation>) -> Set<String> {
        let key = HiddenFieldsKey(entity: entity, role: actor.role, stage: stage, relations: relations)
        if let known = hiddenFieldsCache[key] { return known }
        let hidden = workspace.hiddenFields(entity: entity, stage: stage, actor: actor, relations: relations)
        if hiddenFieldsCache.count >= HiddenFieldsKey.kept { hiddenFieldsCache.removeAll() }
        hiddenFieldsCache[key] = hidden
        return hidden
    }

    /// Exactly what a replica of `user` must hold after a complete sync: the records the user
    /// may see, without the fields the matrix hides, the names withheld where they are
    /// (visibility.md §6). The simulator and operators check replicas against it.
    public func visibleState(for user: HubUser) throws -> [Record] {
        try refreshDirectory()
        let actor = Actor(user: user.name, role: user.role)
        let query = VisibilityQuery.make(user: user.name, role: user.role, workspace: workspace, directory: directory)
        let directory = self.directory
        func relations(_ record: Record, staged: Bool) throws -> Set<Relation> {
            workspace.relations(of: user.name, to: record, team: staged ? try store.team(of: record.id) : [], manages: { directory.manages(user.name, $0) })
        }
        var out = [Record]()
        for id in try store.records(visibleTo: query) {
            guard let record = try store.record(id, workspace: workspace), let entity = workspace.entity(record.entity) else { continue }
            var seen = filtered(record, actor: actor, relations: try relations(record, staged: entity.stageField != nil))
            // (A staged record's names are withheld by `filtered`.)
            if entity.stageField == nil,
                try workspace.withholdsNames(
                    free: entity.visibleVia == nil, role: user.role,
                    dealHidden: { () throws -> Set<String>? in
                        guard let via = entity.visibleVia, case let .reference(p) = record[via], let parent = try store.record(p, workspace: workspace),
                            let pe = workspace.entity(parent.entity)
                        else { return nil }
                        let stage = pe.stageField.flatMap { f -> String? in if case let .member(s) = parent[f] { s } else { nil } }
                        return hiddenFields(entity: parent.entity, stage: stage, actor: actor, relations: try relations(parent, staged: pe.stageField != nil))
                    })
            {
                seen = workspace.withholdingNames(seen, from: user.name)
            }
            out.append(seen)
        }
        return out
    }

    public func pull(user: HubUser, request: PullRequest, activity: inout HubActivity) throws -> PullResponse {
        // One pull must not stall everyone's syncs: 400,000 ids to forget took 4.6 s.
        guard request.forget.count <= ProtocolLimits.maxForget else {
            throw WireError(.batchTooLarge, "at most \(ProtocolLimits.maxForget) records to forget per pull: re-sync from 0 instead")
        }
        // A pull writes only bookkeeping a replica can rebuild: no fsync per pull. The replica's
        // row, the directory and the workspace are read inside it: another hub may have changed
        // them a moment ago (several hubs on one store), and the row written back at the end
        // must be the one read in this transaction.
        let (response, known, replicaID) = try store.bookkeeping {
            // The row, the log's bounds and the directory's marker in one round trip.
            let opening = try store.opening(replica: self.replicaID(request.replica))
            try refreshDirectory(marker: opening.marker)
            let user = try confirmed(user)
            let replica = try own(opening.row, user: user)
            // Protocol 3 (sync-protocol.md §6.1): a replica on an older workspace would get fields
            // and rules it does not know; it handshakes (and migrates) first. 0: a version-1/2 client.
            if request.workspaceVersion != 0, request.workspaceVersion < workspace.version {
                throw WireError(.workspaceOutdated, "the pull names workspace \(request.workspaceVersion); the hub has \(workspace.version): handshake again")
            }
            var page = try PullPage(engine: self, user: user, request: request, replica: replica, bounds: opening.bounds)
            try page.leftAndEntered()
            try page.changes()
            try page.conflicts()
            page.checkpoint()
            let (response, known) = try page.finish(activity: &activity)
            return (response, known, replica.id)
        }
        knownCache.set(replicaID, known, cost: known.bytes)
        return response
    }
}
