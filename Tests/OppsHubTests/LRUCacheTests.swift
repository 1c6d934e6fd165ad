import Testing

@testable import OppsHub

/// The hub's per-user caches are bounded by memory: the least recently used go first.
@Suite struct LRUCacheTests {
    @Test func theLeastRecentlyUsedGoFirstWhenOverBudget() {
        var c = LRUCache<String, Int>(budget: 100)
        c.set("a", 1, cost: 40)
        c.set("b", 2, cost: 40)
        #expect(c.get("a") == 1)  // a is now newer than b
        c.set("c", 3, cost: 40)  // 120 > 100: b goes
        #expect(c.get("b") == nil)
        #expect(c.get("a") == 1 && c.get("c") == 3)
        #expect(c.used == 80 && c.count == 2)
        // Replacing an entry counts its new cost only.
        c.set("a", 10, cost: 10)
        #expect(c.used == 50 && c.get("a") == 10)
        // Taken out and put back, as a snapshot brought forward is.
        #expect(c.removeValue(forKey: "c") == 3)
        #expect(c.used == 10 && c.count == 1)
        // The newest stays even alone over the budget; the rest make room for it.
        c.set("big", 7, cost: 500)
        #expect(c.get("big") == 7 && c.get("a") == nil && c.count == 1)
    }

    @Test func manyUsersKeepTheRecentOnes() {
        var c = LRUCache<Int, Int>(budget: 1_000)
        for user in 0..<10_000 { c.set(user, user, cost: 10) }
        #expect(c.count == 100)
        #expect(c.get(9_999) == 9_999 && c.get(9_900) == 9_900 && c.get(9_899) == nil)
        #expect(c.used <= 1_000)
    }
}
