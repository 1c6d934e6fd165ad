import OppsCore
import Testing

/// Issue 15: likely duplicates made offline on two laptops.
@Suite struct DuplicateTests {
    static func record(_ n: UInt64, _ fields: [String: Value], entity: String = "account") -> Record {
        let stamp = Stamp(hlc: HLC(milliseconds: Int64(n) * 1000, counter: 0), replica: ReplicaID(UUID128(high: 0, low: n)))
        var r = Record(id: UUID128(high: 7, low: n), entity: entity, created: FieldState(value: .null, stamp: stamp, author: "sam", authority: .write))
        for (k, v) in fields { r.fields[k] = FieldState(value: v, stamp: stamp, author: "sam", authority: .write) }
        return r
    }

    @Test func namesOfOneCompanyShareAKey() {
        let omega = Duplicates.key("Omega")
        for same in ["omega", "OMEGA Ltd.", "Omega, Inc.", " Omega  Co ", "Ｏｍｅｇａ", "Omega Corporation"] { #expect(Duplicates.key(same) == omega, "\(same)") }
        for other in ["Omegas", "Omega Tech", "Ome ga Tech"] { #expect(Duplicates.key(other) != omega, "\(other)") }
        #expect(Duplicates.key("上海云帆物流有限公司") == Duplicates.key("上海云帆物流"))
        #expect(Duplicates.key("华为技术股份有限公司") == Duplicates.key("华为技术"))
        #expect(Duplicates.key("Costco") == "costco", "only whole words are legal forms")
        #expect(Duplicates.key("Co") == "co", "a name that is only a legal form keeps it")
        #expect(Duplicates.key("公司") == "公司")
        #expect(Duplicates.key("...").isEmpty)
    }

    /// Deals made twice: the same account and a name that looks the same; another account, no
    /// account, a name of punctuation only or a deleted deal are not; each group in the order
    /// given (here: oldest first), the groups by their first.
    @Test func dealsOfOneAccountWithOneNameAreGrouped() {
        let acme = UUID128(high: 9, low: 1), beta = UUID128(high: 9, low: 2)
        func deal(_ n: UInt64, _ name: String, _ account: UUID128?) -> Record {
            Self.record(n, ["name": .text(name)].merging(account.map { ["account": Value.reference($0)] } ?? [:]) { a, _ in a }, entity: "opportunity")
        }
        let d1 = deal(1, "云帆 CRM 上线", acme), d2 = deal(2, "云帆ＣＲＭ上线!", acme), d3 = deal(3, "云帆 CRM 上线", beta)
        let d4 = deal(4, "云帆 CRM 上线", nil), d5 = deal(5, "云帆 CRM 二期", acme), d6 = deal(6, "--", acme), d7 = deal(7, "…", acme)
        var d8 = deal(8, "云帆 crm 上线", acme)
        d8.deleted = d8.created
        let e1 = deal(11, "Rollout", beta), e2 = deal(12, "ROLLOUT", beta), e3 = deal(13, "rollout.", beta)
        let oldest = { (a: Record, b: Record) in a.created.stamp < b.created.stamp }
        let groups = Duplicates.dealGroups([e3, d2, d8, d5, e1, d1, d3, d4, d6, d7, e2], by: oldest)
        #expect(groups.map { $0.map(\.id) } == [[d1.id, d2.id], [e1.id, e2.id, e3.id]], "\(groups.map { $0.map { $0["name"] } })")
        #expect(Duplicates.dealKey(account: .reference(acme), name: .text("云帆 CRM 上线")) == Duplicates.dealKey(account: .reference(acme), name: .text(" 云帆crm上线 ")))
        #expect(Duplicates.dealKey(account: .null, name: .text("云帆 CRM 上线")) == nil)
        #expect(Duplicates.dealKey(account: .reference(acme), name: .null) == nil)
        // Newest first is the caller's to ask for.
        #expect(Duplicates.dealGroups([d1, d2], by: { !oldest($0, $1) }).first?.first?.id == d2.id)
    }

    @Test func groupsAreFoundAmongAccountsAndContacts() {
        let a1 = Self.record(1, ["name": .text("Omega")]), a2 = Self.record(2, ["name": .text("OMEGA Ltd.")]), a3 = Self.record(3, ["name": .text("Beta")])
        var gone = Self.record(4, ["name": .text("omega")])
        gone.deleted = gone.created
        let groups = Duplicates.groups([a2, a3, a1, gone])
        #expect(groups.map { $0.map(\.id) } == [[a1.id, a2.id]], "oldest first; deleted records are not duplicates")
        #expect(Duplicates.likely(["name": .text("Omega Inc")], among: [a1, a2, a3]).map(\.id) == [a1.id, a2.id])
        #expect(Duplicates.likely(["name": .text("Gamma")], among: [a1, a2, a3]).isEmpty)
        // Contacts: the same name at two accounts are two people; at one account (or none), one.
        let c1 = Self.record(11, ["name": .text("Li Wei"), "account": .reference(a1.id)], entity: "contact")
        let c2 = Self.record(12, ["name": .text("li wei"), "account": .reference(a3.id)], entity: "contact")
        let c3 = Self.record(13, ["name": .text("LI WEI")], entity: "contact")
        let c4 = Self.record(14, ["name": .text("Wei Li"), "email": .text("LW@beta.cn"), "account": .reference(a3.id)], entity: "contact")
        let c5 = Self.record(15, ["name": .text("Lee"), "email": .text("lw@beta.cn ")], entity: "contact")
        let c6 = Self.record(16, ["name": .text("Zhang"), "phone": .text("+86 138-0000-1111")], entity: "contact")
        let c7 = Self.record(17, ["name": .text("张三"), "phone": .text("86 13800001111")], entity: "contact")
        let contacts = Duplicates.groups([c1, c2, c3, c4, c5, c6, c7])
        #expect(
            contacts.map { Set($0.map(\.id)) } == [Set([c1.id, c2.id, c3.id]), Set([c4.id, c5.id]), Set([c6.id, c7.id])],
            "c3 has no account, so it may be either Li Wei; email and phone digits match across names")
        // A contact about to be made is judged by the same rule: its account counts.
        #expect(Duplicates.likely(["name": .text("li wei"), "account": .reference(a3.id)], among: [c1, c2]).map(\.id) == [c2.id])
        #expect(
            Duplicates.likely(["name": .text("Li Wei"), "account": .reference(UUID128(high: 5, low: 5))], among: [c1, c2]).isEmpty,
            "the same name at a third account is a third person")
        #expect(Duplicates.likely(["name": .text("Zhang Wei"), "phone": .text("+86 138 0000 1111")], among: [c6]).map(\.id) == [c6.id])
    }
}
