import Foundation
import OppsCore
import OppsStore
import OppsWire

/// The handshake (sync-protocol.md §4): version, workspace, and the replica's registration.
extension HubEngine {
    // MARK: Handshake

    public func handshake(user: HubUser, request: HandshakeRequest) throws -> HandshakeResponse {
        var activity = HubActivity()
        return try handshake(user: user, request: request, activity: &activity)
    }

    /// The same; `activity.syncBeforeAnswer` says the answer waits for the hub's next sync
    /// (`syncsBeside`): the handshake bound the replica or changed its protocol version.
    public func handshake(user: HubUser, request: HandshakeRequest, activity: inout HubActivity) throws -> HandshakeResponse {
        guard let version = ProtocolVersion.negotiate(clientMin: request.minVersion, clientMax: request.maxVersion) else {
            throw WireError(.protocolVersionUnsupported, "this hub speaks protocol \(ProtocolVersion.minimum)–\(ProtocolVersion.current)")
        }
        guard let replicaID = ReplicaID(bytes: request.replica) else { throw WireError(.invalidId, "replica id is 16 bytes") }
        // The hub stamps its own writes with its id: a replica claiming it would break the
        // uniqueness of stamps (merge-semantics.md §2).
        guard replicaID != hubReplica else { throw WireError(.replicaNotYours, "this replica id is the hub's own") }
        // Last-seen is bookkeeping. The binding (a new replica's row, or the protocol version the
        // hub answers it in) commits with the disk before the answer (sync-protocol.md §2.6): a
        // replica told its version would otherwise, after a crash of the database, be answered in
        // the one before until it happened to handshake again.
        // The head and the last batch are read with the row, in one transaction.
        // The directory and the workspace too, from the marker read with them (one round trip).
        var syncBeforeAnswer = false
        let (head, lastBatch, user) = try store.bookkeeping {
            let opening = try store.opening(replica: replicaID)
            try refreshDirectory(marker: opening.marker)
            let user = try confirmed(user)
            var row = opening.row ?? ReplicaRow(id: replicaID, user: user.name, lastBatch: 0, ack: 0, lastSeenMilliseconds: now, pullToken: 0)
            guard row.user == user.name else { throw WireError(.replicaNotYours, "this replica belongs to another user") }
            row.lastSeenMilliseconds = now
            if opening.row == nil || row.protocolVersion != version {
                row.protocolVersion = version
                if syncsBeside { syncBeforeAnswer = true } else { try store.commitDurably() }
            }
            try store.saveReplica(row)
            return (opening.bounds.head, row.lastBatch, user)
        }
        if syncBeforeAnswer { activity.syncBeforeAnswer = true }
        var response = HandshakeResponse()
        response.version = version
        response.workspaceVersion = workspace.version
        response.user = user.name
        response.role = user.role
        response.hub = Data(hubID.bytes)
        response.hubTime = now
        response.head = head
        response.lastBatch = lastBatch
        if request.workspaceVersion < workspace.version, let (_, document) = try store.workspace() {
            response.workspace = Data(document.utf8)
        }
        return response
    }

    func ownReplica(_ bytes: Data, user: HubUser) throws -> ReplicaRow {
        try own(store.replica(replicaID(bytes)), user: user)
    }

    func replicaID(_ bytes: Data) throws -> ReplicaID {
        guard let id = ReplicaID(bytes: bytes) else { throw WireError(.invalidId, "replica id is 16 bytes") }
        return id
    }

    /// The replica's row, if it is registered and this user's.
    func own(_ row: ReplicaRow?, user: HubUser) throws -> ReplicaRow {
        guard let row else { throw WireError(.handshakeRequired, "handshake before pushing or pulling") }
        guard row.user == user.name else { throw WireError(.replicaNotYours, "this replica belongs to another user") }
        return row
    }
}
