/// Turns an `Encodable` value into a `JSON` value, keeping what `JSON` is for: members in
/// declaration order (a stable output), integers exactly as they are, `JSON` and `Value` members
/// as themselves (an amount never passes through floating point), and a nil optional as `null`
/// rather than a missing key (a script reading `--json` sees every key every time). No
/// Foundation: the core stays pure.
public enum JSONValueEncoder {
    public static func encode<T: Encodable>(_ value: T) throws -> JSON {
        let node = Node()
        try node.put(value, path: [])
        return node.json
    }

    /// One place in the document being built.
    final class Node {
        var leaf: JSON?
        var members: [(String, Node)]?
        var elements: [Node]?

        var json: JSON {
            if let members { return .object(members.map { ($0.0, $0.1.json) }) }
            if let elements { return .array(elements.map(\.json)) }
            return leaf ?? .null
        }

        func put<T: Encodable>(_ value: T, path: [any CodingKey]) throws {
            switch value {
            case let j as JSON: leaf = j
            case let v as Value: leaf = v.plainJSON
            case let s as String: leaf = .string(s)
            case let b as Bool: leaf = .bool(b)
            case let i as Int: leaf = .number(i)
            case let i as Int64: leaf = .number(i)
            case let i as UInt64: leaf = JSON(.number(String(i)))
            case let i as UInt32: leaf = JSON(.number(String(i)))
            case let i as Int32: leaf = JSON(.number(String(i)))
            case let d as Double: leaf = Node.number(d)
            default: try value.encode(to: NodeEncoder(node: self, codingPath: path))
            }
        }

        /// A fraction as its shortest decimal text; not a number (NaN, infinity) as null.
        static func number(_ d: Double) -> JSON {
            guard d.isFinite else { return .null }
            if d == d.rounded(), abs(d) < 1e15 { return .number(Int64(d)) }
            return JSON(.number(d.description))
        }

        func child(_ key: String) -> Node {
            let n = Node()
            if members == nil { members = [] }
            if let i = members!.firstIndex(where: { $0.0 == key }) { members![i].1 = n } else { members!.append((key, n)) }
            return n
        }

        func appended() -> Node {
            let n = Node()
            if elements == nil { elements = [] }
            elements!.append(n)
            return n
        }
    }

    struct NodeEncoder: Encoder {
        let node: Node
        var codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            if node.members == nil { node.members = [] }
            return KeyedEncodingContainer(Keyed<Key>(node: node, codingPath: codingPath))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            if node.elements == nil { node.elements = [] }
            return Unkeyed(node: node, codingPath: codingPath)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer { Single(node: node, codingPath: codingPath) }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: Node
        var codingPath: [any CodingKey]

        mutating func encodeNil(forKey key: Key) throws { node.child(key.stringValue).leaf = .null }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try node.child(key.stringValue).put(value, path: codingPath + [key])
        }
        // A nil optional stays in the document as null.
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let child = node.child(key.stringValue)
            child.members = []
            return KeyedEncodingContainer(Keyed<NestedKey>(node: child, codingPath: codingPath + [key]))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let child = node.child(key.stringValue)
            child.elements = []
            return Unkeyed(node: child, codingPath: codingPath + [key])
        }
        mutating func superEncoder() -> any Encoder { NodeEncoder(node: node.child("super"), codingPath: codingPath) }
        mutating func superEncoder(forKey key: Key) -> any Encoder { NodeEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key]) }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let node: Node
        var codingPath: [any CodingKey]
        var count: Int { node.elements?.count ?? 0 }

        mutating func encodeNil() throws { node.appended().leaf = .null }
        mutating func encode<T: Encodable>(_ value: T) throws { try node.appended().put(value, path: codingPath) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let child = node.appended()
            child.members = []
            return KeyedEncodingContainer(Keyed<NestedKey>(node: child, codingPath: codingPath))
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let child = node.appended()
            child.elements = []
            return Unkeyed(node: child, codingPath: codingPath)
        }
        mutating func superEncoder() -> any Encoder { NodeEncoder(node: node.appended(), codingPath: codingPath) }
    }

    struct Single: SingleValueEncodingContainer {
        let node: Node
        var codingPath: [any CodingKey]

        mutating func encodeNil() throws { node.leaf = .null }
        mutating func encode<T: Encodable>(_ value: T) throws { try node.put(value, path: codingPath) }
    }
}

extension Value: Encodable {
    /// As its plain JSON (`Value.plainJSON`): integers and booleans as themselves, decimals,
    /// dates and names as their canonical text, null as null.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .integer(i): try c.encode(i)
        case let .boolean(b): try c.encode(b)
        default: try c.encode(canonicalText)
        }
    }
}

extension JSON: Encodable {
    /// A JSON value inside an `Encodable` document (through `JSONValueEncoder`, as itself).
    public func encode(to encoder: any Encoder) throws {
        switch kind {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case let .bool(b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case let .number(text):
            var c = encoder.singleValueContainer()
            if let i = Int64(text) { try c.encode(i) } else { try c.encode(Double(text) ?? 0) }
        case let .string(s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case let .array(items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case let .object(members):
            var c = encoder.container(keyedBy: AnyKey.self)
            for m in members { try c.encode(m.value, forKey: AnyKey(m.key)) }
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

extension Encodable {
    /// This value as one line of JSON (`--json` output).
    public func jsonLine() throws -> String { try JSONValueEncoder.encode(self).compactText }

    /// This value as indented JSON (what an operator reads and keeps).
    public func jsonPretty() throws -> String { try JSONValueEncoder.encode(self).prettyText }
}
