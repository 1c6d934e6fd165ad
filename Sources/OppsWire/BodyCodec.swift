import Foundation
import SwiftProtobuf

/// The two body formats of the protocol (sync-protocol.md §2.2): binary Protocol Buffers, the
/// compact form, and canonical proto3 JSON, the debugging form.
public enum WireFormat: String, Sendable, Hashable, CaseIterable {
    case protobuf = "application/x-protobuf"
    case json = "application/json"

    /// Reads a `Content-Type` (parameters such as `; charset=utf-8` are ignored). A missing
    /// header means protobuf.
    public init?(header: String?) {
        guard let header else { self = .protobuf; return }
        let base = header.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingSpaces.lowercased() } ?? ""
        switch base {
        case "", "application/x-protobuf", "application/protobuf", "application/vnd.google.protobuf": self = .protobuf
        case "application/json": self = .json
        default: return nil
        }
    }

    /// The media type of an error answer (sync-protocol.md §7): the request's `Content-Type`
    /// when it is one of the two; else the first of the two `Accept` lists; else protobuf for a
    /// sync request without `Content-Type` (such a request is protobuf, §2.2), JSON otherwise (an
    /// unknown path, an operator endpoint, a `Content-Type` the hub does not speak).
    public static func ofError(contentType: String?, accept: String?, syncRequest: Bool) -> WireFormat {
        if let contentType, let f = WireFormat(header: contentType) { return f }
        for part in (accept ?? "").split(separator: ",") {
            let base = part.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingSpaces.lowercased() } ?? ""
            if base == "application/json" { return .json }
            if base != "", let f = WireFormat(header: base), f == .protobuf { return .protobuf }
        }
        return contentType == nil && syncRequest ? .protobuf : .json
    }
}

/// Encodes and decodes protocol messages in either media type, with compression.
public enum BodyCodec {
    /// Serialises a message (deterministic field order) and compresses it; `internal` when the
    /// message cannot be written (never an empty body in its place).
    public static func encode<M: SwiftProtobuf.Message>(_ message: M, as type: WireFormat, coding: ContentCoding = .identity) throws(WireError) -> [UInt8] {
        let raw: [UInt8]
        do {
            switch type {
            case .protobuf:
                var options = BinaryEncodingOptions()
                options.useDeterministicOrdering = true
                // A pull page's whole records by hand (PageCoding: the same bytes, far less CPU).
                if let page = message as? PullResponse {
                    raw = try PageCoding.encode(page)
                } else {
                    raw = try message.serializedBytes(options: options)
                }
            case .json:
                var options = JSONEncodingOptions()
                options.useDeterministicOrdering = true
                // JSON has no unknown fields: a page's whole records, carried as raw entries
                // (PageWriter.finished), are decoded into `entered` first.
                if let page = message as? PullResponse {
                    raw = try PageCoding.wholeRecordsDecoded(page).jsonUTF8Bytes(options: options)
                } else if var push = message as? PushResponse, push.hasPull {
                    push.pull = try PageCoding.wholeRecordsDecoded(push.pull)
                    raw = try push.jsonUTF8Bytes(options: options)
                } else {
                    raw = try message.jsonUTF8Bytes(options: options)
                }
            }
        } catch {
            throw WireError(.internal, "a \(M.protoMessageName) could not be encoded as \(type.rawValue): \(error)")
        }
        return coding.compress(raw)
    }

    /// Decompresses (within `limit`) and decodes a message; `malformed-body` when it is not one.
    public static func decode<M: SwiftProtobuf.Message>(
        _ type: M.Type, from body: [UInt8], as media: WireFormat,
        coding: ContentCoding = .identity, limit: Int = 64 << 20
    ) throws(WireError) -> M {
        let raw = try coding.decompress(body, limit: limit)
        do {
            switch media {
            case .protobuf:
                if M.self == PullResponse.self, let page = try PageCoding.decode(raw) as? M { return page }
                return try M(serializedBytes: raw)
            case .json:
                var options = JSONDecodingOptions()
                options.ignoreUnknownFields = false
                return try M(jsonUTF8Bytes: raw, options: options)
            }
        } catch {
            throw WireError(.malformedBody, "body is not a valid \(M.protoMessageName) in \(media.rawValue)")
        }
    }
}
