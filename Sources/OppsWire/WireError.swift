/// A protocol-level error with its stable code (Protocol/spec/errors.md). A struct around a
/// closed set of codes, so codes can be added without breaking callers; the description
/// never prints user data.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stable error codes of the protocol, with their HTTP status and retryability.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        case malformedBody = "malformed-body"
        case unsupportedMediaType = "unsupported-media-type"
        case unsupportedEncoding = "unsupported-encoding"
        case bodyTooLarge = "body-too-large"
        case decompressedTooLarge = "decompressed-too-large"
        case batchTooLarge = "batch-too-large"
        case invalidId = "invalid-id"
        /// A value outside its kind's range (merge-semantics.md §1.1).
        case invalidValue = "invalid-value"
        case protocolVersionUnsupported = "protocol-version-unsupported"
        case unauthenticated = "unauthenticated"
        case userDisabled = "user-disabled"
        case replicaNotYours = "replica-not-yours"
        case handshakeRequired = "handshake-required"
        case batchOutOfOrder = "batch-out-of-order"
        case batchMismatch = "batch-mismatch"
        case workspaceOutdated = "workspace-outdated"
        case cursorAhead = "cursor-ahead"
        case cursorExpired = "cursor-expired"
        case notFound = "not-found"
        case methodNotAllowed = "method-not-allowed"
        case rateLimited = "rate-limited"
        case unavailable = "unavailable"
        case `internal` = "internal"

        /// The HTTP status the hub answers with.
        public var httpStatus: Int {
            switch self {
            case .malformedBody, .invalidId, .invalidValue, .protocolVersionUnsupported: 400
            case .unauthenticated: 401
            case .userDisabled, .replicaNotYours: 403
            case .notFound: 404
            case .methodNotAllowed: 405
            case .handshakeRequired, .batchOutOfOrder, .batchMismatch, .workspaceOutdated, .cursorAhead: 409
            case .cursorExpired: 410
            case .bodyTooLarge, .decompressedTooLarge, .batchTooLarge: 413
            case .unsupportedMediaType, .unsupportedEncoding: 415
            case .rateLimited: 429
            case .internal: 500
            case .unavailable: 503
            }
        }

        /// Whether sending the same request again later may succeed.
        public var retryable: Bool {
            switch self {
            case .rateLimited, .unavailable, .internal: true
            default: false
            }
        }
    }

    public let code: Code
    /// Safe to log and show: names what is wrong, never echoes user data.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// The body the hub sends with this error.
    public var body: ErrorBody {
        var b = ErrorBody()
        b.code = code.rawValue
        b.message = message
        b.retryable = code.retryable
        return b
    }

    /// Reads an error body back on the client; an unknown code maps to `internal`.
    public init(body: ErrorBody) {
        self.code = Code(rawValue: body.code) ?? .internal
        self.message = body.message
    }
}
