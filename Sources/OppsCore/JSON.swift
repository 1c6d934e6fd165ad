/// A JSON value that remembers where it came from, so a validator can point at the exact
/// line and column of a mistake. Numbers keep their source text: an amount never passes
/// through floating point.
public struct JSON: Sendable, Equatable {
    /// The kinds of JSON value.
    public enum Kind: Sendable, Equatable {
        case null
        case bool(Bool)
        /// The number exactly as written (`"12000.00"`, `"-3"`, `"1e3"`).
        case number(String)
        case string(String)
        case array([JSON])
        /// Members in document order; duplicate keys are a parse error.
        case object([Member])
    }

    /// One `"key": value` pair of an object, with the key's position.
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSON
        public var position: SourcePosition

        public init(key: String, value: JSON, position: SourcePosition = .unknown) {
            self.key = key
            self.value = value
            self.position = position
        }
    }

    public var kind: Kind
    public var position: SourcePosition

    public init(_ kind: Kind, at position: SourcePosition = .unknown) {
        self.kind = kind
        self.position = position
    }

    /// Equality ignores positions: two documents with the same content are equal.
    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs.kind, rhs.kind) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    // MARK: Convenience accessors

    public subscript(key: String) -> JSON? {
        if case let .object(members) = kind { return members.first { $0.key == key }?.value }
        return nil
    }

    public var string: String? { if case let .string(s) = kind { return s }; return nil }
    public var bool: Bool? { if case let .bool(b) = kind { return b }; return nil }
    public var array: [JSON]? { if case let .array(a) = kind { return a }; return nil }
    public var members: [Member]? { if case let .object(m) = kind { return m }; return nil }
    public var isNull: Bool { if case .null = kind { return true }; return false }
    public var numberText: String? { if case let .number(n) = kind { return n }; return nil }
    public var int: Int? { numberText.flatMap { Int($0) } }

    /// A short name of the kind for error messages.
    public var kindName: String {
        switch kind {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    // MARK: Building

    public static func string(_ s: String) -> JSON { JSON(.string(s)) }
    public static func number(_ n: Int64) -> JSON { JSON(.number(String(n))) }
    public static func number(_ n: Int) -> JSON { JSON(.number(String(n))) }
    public static func bool(_ b: Bool) -> JSON { JSON(.bool(b)) }
    public static var null: JSON { JSON(.null) }
    public static func array(_ a: [JSON]) -> JSON { JSON(.array(a)) }
    public static func object(_ pairs: [(String, JSON)]) -> JSON {
        JSON(.object(pairs.map { Member(key: $0.0, value: $0.1) }))
    }
}

/// A 1-based line and column in a source text.
public struct SourcePosition: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public static let unknown = SourcePosition(line: 0, column: 0)
    public var description: String { "line \(line), column \(column)" }
}

/// A JSON syntax error with its position.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var position: SourcePosition
    public var message: String
    public var description: String { "\(position): \(message)" }
}

// MARK: - Parsing

extension JSON {
    /// Parses a complete JSON text (RFC 8259). Duplicate object keys are refused, because a
    /// workspace file with two `"amount"` entries is a mistake the operator must hear about.
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSON {
        var parser = JSONParser(bytes: Array(text.utf8))
        return try parser.parseDocument()
    }

    public static func parse(bytes: [UInt8]) throws(JSONSyntaxError) -> JSON {
        var parser = JSONParser(bytes: bytes)
        return try parser.parseDocument()
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    var index = 0
    var line = 1
    var lineStart = 0
    var depth = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    var position: SourcePosition { SourcePosition(line: line, column: index - lineStart + 1) }

    func fail(_ message: String, at position: SourcePosition? = nil) -> JSONSyntaxError {
        JSONSyntaxError(position: position ?? self.position, message: message)
    }

    mutating func parseDocument() throws(JSONSyntaxError) -> JSON {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if index < bytes.count { throw fail("unexpected text after the JSON value") }
        return value
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A:
                index += 1
                line += 1
                lineStart = index
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONSyntaxError) -> JSON {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        let start = position
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return JSON(.string(try parseString()), at: start)
        case UInt8(ascii: "t"): try expectWord("true"); return JSON(.bool(true), at: start)
        case UInt8(ascii: "f"): try expectWord("false"); return JSON(.bool(false), at: start)
        case UInt8(ascii: "n"): try expectWord("null"); return JSON(.null, at: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSON(.number(try parseNumber()), at: start)
        default:
            throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[index])))'")
        }
    }

    mutating func expectWord(_ word: String) throws(JSONSyntaxError) {
        let w = Array(word.utf8)
        guard index + w.count <= bytes.count, Array(bytes[index..<index + w.count]) == w else {
            throw fail("invalid literal (expected \(word))")
        }
        index += w.count
    }

    mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = index
        let startPosition = position
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits(_ p: inout JSONParser) -> Int {
            var n = 0
            while p.index < p.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(p.bytes[p.index]) {
                p.index += 1
                n += 1
            }
            return n
        }
        let intStart = index
        if digits(&self) == 0 { throw fail("invalid number") }
        if bytes[intStart] == UInt8(ascii: "0"), index - intStart > 1 { throw fail("leading zeros are not allowed", at: startPosition) }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            if digits(&self) == 0 { throw fail("invalid number: digits expected after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            if digits(&self) == 0 { throw fail("invalid number: digits expected in exponent") }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    mutating func parseString() throws(JSONSyntaxError) -> String {
        index += 1  // opening quote
        var out = [UInt8]()
        while true {
            guard index < bytes.count else { throw fail("unterminated string") }
            let b = bytes[index]
            switch b {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw fail("unterminated string") }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate in \\u escape")
                        }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid low surrogate in \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
                }
            case 0x00..<0x20:
                throw fail("control character in string (escape it)")
            default:
                out.append(b)
                index += 1
            }
        }
    }

    mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v * 16 + d
            index += 1
        }
        return v
    }

    mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > 256 { throw fail("nesting too deep") }
    }

    mutating func parseArray() throws(JSONSyntaxError) -> JSON {
        let start = position
        try enter()
        defer { depth -= 1 }
        index += 1
        var items = [JSON]()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return JSON(.array(items), at: start)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated array (missing ']')", at: start) }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return JSON(.array(items), at: start) }
            throw fail("expected ',' or ']' in array")
        }
    }

    mutating func parseObject() throws(JSONSyntaxError) -> JSON {
        let start = position
        try enter()
        defer { depth -= 1 }
        index += 1
        var members = [JSON.Member]()
        var seen = Set<String>()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return JSON(.object(members), at: start)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw fail("expected a quoted key in object")
            }
            let keyPosition = position
            let key = try parseString()
            if !seen.insert(key).inserted { throw fail("duplicate key \"\(key)\"", at: keyPosition) }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after key \"\(key)\"") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append(JSON.Member(key: key, value: value, position: keyPosition))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated object (missing '}')", at: start) }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return JSON(.object(members), at: start) }
            throw fail("expected ',' or '}' in object")
        }
    }
}

// MARK: - Serialising

extension JSON {
    /// Compact JSON text, members in their order.
    public var compactText: String {
        var out = ""
        write(to: &out, indent: nil, level: 0)
        return out
    }

    /// Indented JSON text (two spaces), members in their order.
    public var prettyText: String {
        var out = ""
        write(to: &out, indent: "  ", level: 0)
        return out
    }

    private func write(to out: inout String, indent: String?, level: Int) {
        switch kind {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .number(n): out += n
        case let .string(s): JSON.writeString(s, to: &out)
        case let .array(items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                if let indent { out += "\n" + String(repeating: indent, count: level + 1) }
                item.write(to: &out, indent: indent, level: level + 1)
            }
            if let indent { out += "\n" + String(repeating: indent, count: level) }
            out += "]"
        case let .object(members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (i, m) in members.enumerated() {
                if i > 0 { out += "," }
                if let indent { out += "\n" + String(repeating: indent, count: level + 1) }
                JSON.writeString(m.key, to: &out)
                out += indent == nil ? ":" : ": "
                m.value.write(to: &out, indent: indent, level: level + 1)
            }
            if let indent { out += "\n" + String(repeating: indent, count: level) }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
