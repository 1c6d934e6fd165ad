import Testing

@testable import OppsCSV

@Suite struct CSVTests {
    @Test func quotedFieldsLineBreaksAndCRLFReadBack() throws {
        let rows = try CSV.parse("\u{FEFF}a,b,c\r\n\"x, y\",\"he said \"\"hi\"\"\",\"two\nlines\"\n\nlast,,\n")
        #expect(rows.map(\.fields) == [["a", "b", "c"], ["x, y", "he said \"hi\"", "two\nlines"], ["last", "", ""]])
        #expect(rows.map(\.line) == [1, 2, 5])
        for fields in rows.map(\.fields) { #expect(try CSV.parse(CSV.line(fields)).first?.fields == fields) }
    }

    /// CSV injection: what a spreadsheet would run is written as text, and read back as it was.
    @Test func aFormulaIsWrittenAsTextAndReadBackAsItWas() throws {
        #expect(CSV.cell("=HYPERLINK(\"https://example.com/?\"&A2,\"详情\")") == "\"'=HYPERLINK(\"\"https://example.com/?\"\"&A2,\"\"详情\"\")\"")
        #expect(CSV.cell("@SUM(A1:A9)") == "'@SUM(A1:A9)")
        #expect(CSV.cell("+86 138 0000 0000") == "'+86 138 0000 0000", "a phone number is no formula but reads as one")
        #expect(CSV.cell("-1+2") == "'-1+2")
        #expect(CSV.cell("\tcmd") == "'\tcmd")
        // Numbers are numbers, in a spreadsheet too.
        for number in ["-5", "+12.50", "-1,200", "-12.5%", "0.25", "2026-12-04"] { #expect(CSV.guarded(number) == number) }
        for notNumber in ["-", "-.5", "-5.", "-,5", "-5,", "-1.2.3", "+%"] { #expect(CSV.guarded(notNumber) == "'" + notNumber) }
        // The guard's own apostrophe is told from one the text had.
        #expect(CSV.cell("'=x") == "''=x")
        #expect(CSV.cell("''") == "'''")
        for plain in ["'Tis", "'", "'5", "华东 试点", ""] { #expect(CSV.cell(plain) == plain) }
        // Whatever the text, reading back gives what was written: every string of up to four
        // characters from those that matter.
        let alphabet: [String] = ["'", "=", "+", "-", "@", "\t", "\r", "5", ".", ",", "%", "a", "\"", "\n"]
        var texts: Set<String> = [""]
        for _ in 0..<4 { texts.formUnion(texts.flatMap { t in alphabet.map { t + $0 } }) }
        #expect(texts.count > 10_000)
        #expect(CSV.cell("a\r\nb") == "\"a\r\nb\"", "a CR LF inside a text is quoted (it is one Character)")
        for t in texts {
            let row = ["x", t, t + "=", "y"]
            #expect(try CSV.parse(CSV.line(row)).first?.fields == row, "\(t.debugDescription)")
        }
    }

    @Test func malformedQuotesNameTheLine() {
        #expect(throws: CSV.ParseError.self) { try CSV.parse("a,b\nx,\"open\n") }
        do { _ = try CSV.parse("a\nb\"c\n"); Issue.record("accepted") } catch { #expect(error.line == 2) }
        do { _ = try CSV.parse("\"a\"b\n"); Issue.record("accepted") } catch { #expect(error.message.contains("after a closing quote")) }
    }
}

/// merge-semantics.md §8, computed here from the byte layout the spec gives, independently of
/// the core's allocation-free hashing: the two must agree for every kind of value.
