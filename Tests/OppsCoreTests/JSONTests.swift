import Testing

@testable import OppsCore

@Suite struct JSONTests {
    @Test func parsesEveryKindAndKeepsNumbersAsText() throws {
        let json = try JSON.parse(#"{"a": [1, -2.50, 3e2], "b": {"c": null, "d": true}, "e": "x\n\u00e9\ud83d\ude00"}"#)
        #expect(json["a"]?.array?.map { $0.numberText } == ["1", "-2.50", "3e2"])
        #expect(json["b"]?["c"]?.isNull == true)
        #expect(json["b"]?["d"]?.bool == true)
        #expect(json["e"]?.string == "x\né😀")
    }

    @Test func compactTextRoundTrips() throws {
        let text = #"{"k":[1,"two",{"three":false}],"s":"q\"uote\\"}"#
        #expect(try JSON.parse(text).compactText == text)
        #expect(try JSON.parse(JSON.parse(text).prettyText) == JSON.parse(text))
    }

    @Test(arguments: [
        ("{\n  \"a\": 1,\n  \"a\": 2\n}", 3, 3, "duplicate key"),
        ("{\n  \"a\": 1\n  \"b\": 2\n}", 3, 3, "expected ','"),
        ("[1, 2,\n 3", 1, 1, "unterminated array"),
        ("{\"a\": tru}", 1, 7, "invalid literal"),
        ("{\"a\": 01}", 1, 7, "leading zeros"),
        ("\"abc", 1, 5, "unterminated string"),
        ("{} x", 1, 4, "unexpected text"),
    ])
    func reportsTheLineAndColumnOfASyntaxError(text: String, line: Int, column: Int, message: String) {
        do {
            _ = try JSON.parse(text)
            Issue.record("parsed invalid JSON: \(text)")
        } catch {
            #expect(error.position == SourcePosition(line: line, column: column))
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func refusesDeepNesting() {
        #expect(throws: JSONSyntaxError.self) { try JSON.parse(String(repeating: "[", count: 300) + String(repeating: "]", count: 300)) }
    }
}
