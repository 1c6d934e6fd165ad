import OppsWire
import Testing

/// The `Authorization` header's token (sync-protocol.md §2.1: the scheme is case-insensitive).
struct BearerTests {
    @Test func theTokenAfterTheSchemeInAnyCaseWithoutSurroundingBlanks() {
        #expect(Bearer.token("Bearer opps_abc") == "opps_abc")
        #expect(Bearer.token("bearer opps_abc") == "opps_abc")
        #expect(Bearer.token("BeArEr opps_abc") == "opps_abc")
        #expect(Bearer.token("Bearer   opps_abc \t") == "opps_abc")
        #expect(Bearer.token("Bearer 令牌") == "令牌")
    }

    @Test func anythingElseIsNoToken() {
        for header in [nil, "", "Bearer", "Bearer ", "Bearer  \t ", "Basic b3BwczpzZWNyZXQ=", "Bearerx opps_abc", "Bearer_opps_abc", "Béarer opps_abc", " Bearer opps"] {
            #expect(Bearer.token(header) == nil, "\(header ?? "nil")")
        }
    }
}
