/// Likely duplicates (issue 15): the same company or person made on two laptops offline —
/// "Omega", "OMEGA Ltd." and "Ｏｍｅｇａ" are one account; "上海云帆物流有限公司" and "上海云帆物流"
/// one too. Pure: `opps` checks before creating and lists what a sync brought in.
public enum Duplicates {
    /// Legal-form words that end a company name and do not tell two companies apart.
    static let latinForms: Set<String> = [
        "inc", "incorporated", "llc", "ltd", "limited", "co", "corp", "corporation", "company",
        "gmbh", "ag", "sa", "plc", "bv", "pte", "pty", "kk", "srl", "spa",
    ]
    /// The same, written in Chinese, longest first.
    static let cjkForms = ["股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "公司"]

    /// The key two names of one company or person share: any case, full-width letters as ASCII,
    /// without spaces, punctuation and trailing legal forms. Empty for a name of only those.
    public static func key(_ name: String) -> String {
        // Words of letters and digits, lowercased, full-width folded.
        var words = [String](), word = ""
        for scalar in name.unicodeScalars {
            var s = scalar
            if (0xFF01...0xFF5E).contains(s.value), let folded = Unicode.Scalar(s.value - 0xFEE0) { s = folded }
            if s.properties.isAlphabetic || s.properties.numericType != nil {
                word += String(Character(s)).lowercased()
            } else if !word.isEmpty {
                words.append(word)
                word = ""
            }
        }
        if !word.isEmpty { words.append(word) }
        while words.count > 1, let last = words.last, latinForms.contains(last) { words.removeLast() }
        var key = words.joined()
        var stripped = true
        while stripped {
            stripped = false
            for form in cjkForms where key.hasSuffix(form) && key.count > form.count {
                key = String(key.dropLast(form.count))
                stripped = true
            }
        }
        return key
    }

    /// Groups (two or more) of live records of one entity that are likely the same: the same name
    /// key; for records with an `account` reference (contacts), also the same account, unless
    /// one has none. Records with the same email (any case) or phone (its digits) are grouped too.
    /// Oldest first within a group (by creation stamp); groups by their first record.
    public static func groups(_ records: [Record]) -> [[Record]] {
        let live = records.filter { !$0.isDeleted }.sorted { $0.created.stamp < $1.created.stamp }
        // Union-find over positions.
        var parent = Array(live.indices)
        func root(_ i: Int) -> Int {
            var i = i
            while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
            return i
        }
        func join(_ a: Int, _ b: Int) { let (ra, rb) = (root(a), root(b)); if ra != rb { parent[max(ra, rb)] = min(ra, rb) } }
        var byKey = [String: [Int]]()
        var byContact = [String: Int]()
        for (i, r) in live.enumerated() {
            let k = key(r["name"].isNull ? "" : r["name"].canonicalText)
            if !k.isEmpty { byKey[k, default: []].append(i) }
            if case let .text(email) = r["email"], email.contains("@") {
                let e = "e:" + email.lowercased().filter { !$0.isWhitespace }
                if let j = byContact[e] { join(i, j) } else { byContact[e] = i }
            }
            if case let .text(phone) = r["phone"] {
                let digits = phone.filter(\.isNumber)
                if digits.count >= 6 { if let j = byContact["p:" + digits] { join(i, j) } else { byContact["p:" + digits] = i } }
            }
        }
        for list in byKey.values where list.count > 1 {
            for (n, i) in list.enumerated() {
                for j in list[..<n] {
                    let a = live[i]["account"], b = live[j]["account"]
                    if a.isNull || b.isNull || a == b { join(i, j) }
                }
            }
        }
        var out = [Int: [Record]]()
        for i in live.indices { out[root(i), default: []].append(live[i]) }
        return out.keys.sorted().compactMap { out[$0]!.count > 1 ? out[$0] : nil }
    }

    /// What two deals made twice share (one rule for refusing a second one and for finding the
    /// pairs a sync brought together): the account they are for and their name's key
    /// (`云帆ＣＲＭ上线!` is `云帆 CRM 上线`). Nil for a deal without an account or with a name of
    /// nothing but spaces, punctuation and legal forms: such deals are never called the same.
    /// Whether a deal is open is the caller's: a closed deal and a new one of the same name are a
    /// renewal, not a duplicate.
    public static func dealKey(account: Value, name: Value) -> String? {
        guard case let .reference(id) = account else { return nil }
        let k = key(name.isNull ? "" : name.canonicalText)
        return k.isEmpty ? nil : "\(id) \(k)"
    }

    /// Groups (two or more) of deals that share a `dealKey`, each group in `order`, the groups by
    /// their first deal in the same order. `deals` are the open ones the caller holds.
    public static func dealGroups(_ deals: [Record], by order: (Record, Record) -> Bool) -> [[Record]] {
        var byKey = [String: [Record]]()
        for d in deals where !d.isDeleted {
            if let k = dealKey(account: d["account"], name: d["name"]) { byKey[k, default: []].append(d) }
        }
        return byKey.values.filter { $0.count > 1 }.map { $0.sorted(by: order) }.sorted { order($0[0], $1[0]) }
    }

    /// The records among `existing` that a record about to be made with `fields` would likely
    /// duplicate, by the same rule as `groups` (for a contact: its account, email and phone
    /// count), oldest first.
    public static func likely(_ fields: [String: Value], among existing: [Record]) -> [Record] {
        let probeID = RecordID(high: .max, low: .max)
        let stamp = Stamp(hlc: HLC(rawValue: .max), replica: ReplicaID(probeID))
        var probe = Record(id: probeID, entity: existing.first?.entity ?? "", created: FieldState(value: .null, stamp: stamp, author: "", authority: .write))
        for (k, v) in fields { probe.fields[k] = FieldState(value: v, stamp: stamp, author: "", authority: .write) }
        let group = groups(existing.filter { $0.id != probeID } + [probe]).first { $0.contains { $0.id == probeID } } ?? []
        return group.filter { $0.id != probeID }
    }
}
