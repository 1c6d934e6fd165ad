import OppsStore
import OppsWire

extension HubEngine {
    /// One protocol request handled in-process as the HTTP handlers handle it (authentication,
    /// then the endpoint), with protobuf bodies as on the wire: the simulator and the demo talk
    /// to an engine through this, not through copies of the dispatch. Errors are `WireError`s.
    public func answer(_ endpoint: String, _ body: [UInt8], token: String) -> Result<[UInt8], WireError> {
        do {
            let user = try authenticate(authorization: "Bearer " + token)
            var activity = HubActivity()
            switch endpoint {
            case Endpoint.handshake:
                return .success(
                    try BodyCodec.encode(try handshake(user: user, request: BodyCodec.decode(HandshakeRequest.self, from: body, as: .protobuf)), as: .protobuf))
            case Endpoint.push:
                return .success(
                    try BodyCodec.encode(
                        try push(user: user, request: BodyCodec.decode(PushRequest.self, from: body, as: .protobuf), received: body, activity: &activity), as: .protobuf))
            case Endpoint.pull:
                return .success(
                    try BodyCodec.encode(try pull(user: user, request: BodyCodec.decode(PullRequest.self, from: body, as: .protobuf), activity: &activity), as: .protobuf)
                )
            default:
                return .failure(WireError(.notFound, endpoint))
            }
        } catch {
            // In process, an internal failure keeps its detail: the simulator prints it.
            let answer = WireError.answering(error)
            return .failure(answer.code == .internal ? WireError(.internal, "\(error)") : answer)
        }
    }
}
