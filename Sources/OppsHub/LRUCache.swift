/// A cache bounded by memory, not by entry count: each entry carries its approximate size in
/// bytes, and the least recently used go when the total passes the budget. At 20,000 users a
/// count cap cleared wholesale would empty the cache every few seconds (SCALE-OUT.md); this
/// keeps the users who sync, and drops those who have not for the longest. The newest entry is
/// kept even when it alone is over the budget (a pull needs its own user's snapshot).
struct LRUCache<Key: Hashable, Value> {
    private struct Node {
        var key: Key
        var value: Value
        var cost: Int
        var newer: Int
        var older: Int
    }

    let budget: Int
    private(set) var used = 0
    private var nodes: [Node?] = []
    private var free: [Int] = []
    private var index: [Key: Int] = [:]
    /// Most and least recently used (-1: none).
    private var newest = -1
    private var oldest = -1

    init(budget: Int) { self.budget = budget }

    var count: Int { index.count }

    /// The value, now the most recently used.
    mutating func get(_ key: Key) -> Value? {
        guard let i = index[key] else { return nil }
        touch(i)
        return nodes[i]!.value
    }

    /// Takes the value out (the caller puts it back, changed or not, with `set`).
    mutating func removeValue(forKey key: Key) -> Value? {
        guard let i = index.removeValue(forKey: key) else { return nil }
        unlink(i)
        let node = nodes[i]!
        nodes[i] = nil
        free.append(i)
        used -= node.cost
        return node.value
    }

    /// Stores `value` as the most recently used, then evicts the least recently used while the
    /// total is over the budget.
    mutating func set(_ key: Key, _ value: Value, cost: Int) {
        _ = removeValue(forKey: key)
        let node = Node(key: key, value: value, cost: cost, newer: -1, older: newest)
        let i: Int
        if let f = free.popLast() {
            nodes[f] = node
            i = f
        } else {
            nodes.append(node)
            i = nodes.count - 1
        }
        if newest >= 0 { nodes[newest]!.newer = i }
        newest = i
        if oldest < 0 { oldest = i }
        index[key] = i
        used += cost
        while used > budget, oldest >= 0, oldest != newest, let key = nodes[oldest]?.key { _ = removeValue(forKey: key) }
    }

    private mutating func touch(_ i: Int) {
        guard i != newest else { return }
        unlink(i)
        nodes[i]!.older = newest
        nodes[i]!.newer = -1
        if newest >= 0 { nodes[newest]!.newer = i }
        newest = i
        if oldest < 0 { oldest = i }
    }

    private mutating func unlink(_ i: Int) {
        let n = nodes[i]!
        if n.newer >= 0 { nodes[n.newer]!.older = n.older } else { newest = n.older }
        if n.older >= 0 { nodes[n.older]!.newer = n.newer } else { oldest = n.newer }
    }
}
