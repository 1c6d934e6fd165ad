import Testing

@testable import OppsCore

/// `--json` answers are `Encodable` types turned into `JSON` by `JSONValueEncoder`.
@Suite struct JSONValueEncoderTests {
    struct Row: Encodable {
        struct Inner: Encodable {
            var n: UInt64
            var tags: [String]
        }
        var zeta: String
        var alpha: Int
        var amount: Value
        var missing: String?
        var absentValue: Value?
        var raw: JSON
        var inner: [Inner]
        var ratio: Double
        var flag: Bool
    }

    @Test func membersInDeclarationOrderValuesExactAndNilAsNull() throws {
        let row = Row(
            zeta: "商机", alpha: -3, amount: .decimal(try ExactDecimal(parsing: "12000.50")), missing: nil, absentValue: nil,
            raw: .object([("k", .number(1))]), inner: [.init(n: UInt64.max, tags: ["a", "b"])], ratio: 0.25, flag: true)
        let text = try row.jsonLine()
        #expect(
            text
                == #"{"zeta":"商机","alpha":-3,"amount":"12000.50","missing":null,"absentValue":null,"raw":{"k":1},"inner":[{"n":18446744073709551615,"tags":["a","b"]}],"ratio":0.25,"flag":true}"#
        )
        // What it writes, the parser reads back.
        #expect(try JSON.parse(text) == JSONValueEncoder.encode(row))
    }

    @Test func arraysAndValuesAtTheTop() throws {
        #expect(try [Value.integer(7), .null, .text("x")].jsonLine() == #"[7,null,"x"]"#)
        #expect(try [String]().jsonLine() == "[]")
        #expect(try JSONValueEncoder.encode(Double.nan) == .null)
    }
}
