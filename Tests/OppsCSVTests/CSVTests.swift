import OppsCSV
import Testing

@Suite struct CSVTests {
    @Test func quotedFieldsLineBreaksAndCRLFReadBack() throws {
        let rows = try CSV.parse("\u{FEFF}a,b,c\r\n\"x, y\",\"he said \"\"hi\"\"\",\"two\nlines\"\n\nlast,,\n")
        #expect(rows.map(\.fields) == [["a", "b", "c"], ["x, y", "he said \"hi\"", "two\nlines"], ["last", "", ""]])
        #expect(rows.map(\.line) == [1, 2, 5])
        for fields in rows.map(\.fields) { #expect(try CSV.parse(CSV.line(fields)).first?.fields == fields) }
    }

    @Test func malformedQuotesNameTheLine() {
        #expect(throws: CSV.ParseError.self) { try CSV.parse("a,b\nx,\"open\n") }
        do { _ = try CSV.parse("a\nb\"c\n"); Issue.record("accepted") } catch { #expect(error.line == 2) }
        do { _ = try CSV.parse("\"a\"b\n"); Issue.record("accepted") } catch { #expect(error.message.contains("after a closing quote")) }
    }
}

/// merge-semantics.md §8, computed here from the byte layout the spec gives, independently of
/// the core's allocation-free hashing: the two must agree for every kind of value.
