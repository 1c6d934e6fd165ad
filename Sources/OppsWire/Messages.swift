import SwiftProtobuf

// The protocol's messages under the names the rest of the code uses. The generated types live
// in Generated/oppsync.pb.swift (Tools/generate-protobuf.sh); every wire type is here, in this
// module, and nowhere else.

public typealias WireValue = Oppsync_V1_Value
public typealias WireDecimal = Oppsync_V1_Decimal
public typealias WireBase = Oppsync_V1_Base
public typealias WireWrite = Oppsync_V1_Write
public typealias WireWriteKind = Oppsync_V1_WriteKind
public typealias WireOutcome = Oppsync_V1_Outcome
public typealias HandshakeRequest = Oppsync_V1_HandshakeRequest
public typealias HandshakeResponse = Oppsync_V1_HandshakeResponse
public typealias PushRequest = Oppsync_V1_PushRequest
public typealias PushResponse = Oppsync_V1_PushResponse
public typealias WriteResult = Oppsync_V1_WriteResult
public typealias PullRequest = Oppsync_V1_PullRequest
public typealias PullResponse = Oppsync_V1_PullResponse
public typealias WireChange = Oppsync_V1_Change
public typealias WireRecordState = Oppsync_V1_RecordState
public typealias WireConflict = Oppsync_V1_Conflict
public typealias WireCheckpoint = Oppsync_V1_Checkpoint
public typealias ErrorBody = Oppsync_V1_ErrorBody

/// The `Authorization: Bearer <token>` header (sync-protocol.md §2): the scheme is
/// case-insensitive (RFC 9110 §11.1). The one place the hub reads it, for users and `/metrics`.
public enum Bearer {
    /// The token the header carries, or nil when it is not a bearer header.
    public static func token(_ header: String?) -> String? {
        // On the UTF-8 bytes: every request reads it (grapheme counting, lowercasing and
        // Foundation's trimming were 3 % of a no-change sync's CPU).
        guard let header else { return nil }
        let bytes = Array(header.utf8)
        guard bytes.count > 7 else { return nil }
        for (b, expected) in zip(bytes.prefix(7), "bearer ".utf8) where b | (b >= 0x41 && b <= 0x5A ? 0x20 : 0) != expected { return nil }
        func blank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        var start = 7, end = bytes.count
        while start < end, blank(bytes[start]) { start += 1 }
        while end > start, blank(bytes[end - 1]) { end -= 1 }
        return start == end ? nil : String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

/// Limits every peer keeps to (sync-protocol.md §6.3).
public enum ProtocolLimits {
    /// Record ids one pull may ask the hub to forget; a replica that dropped more re-syncs from 0.
    public static let maxForget = 5000
}

/// The paths of the protocol's endpoints (sync-protocol.md §4).
public enum Endpoint {
    public static let handshake = "/v1/handshake"
    public static let push = "/v1/push"
    public static let pull = "/v1/pull"
    public static let health = "/healthz"
    public static let metrics = "/metrics"
}
