/// Display labels (issue 15, workspace-format.md "Labels"): every role, stage, entity, field and
/// enum member may carry a label per language (`{"zh-CN": "需求挖掘", "en": "discovery"}`). Labels
/// are display and input only: the wire, the store, rules and vectors use names, always. A label
/// missing in the reader's language shows the name.
public typealias Labels = [String: String]

public enum LocaleTag {
    /// A BCP 47-like tag as workspaces write them: `en`, `zh-CN`, `zh-Hant-TW`.
    public static func isValid(_ tag: String) -> Bool {
        let parts = tag.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, (2...3).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLowercase }) else { return false }
        return parts.dropFirst().allSatisfy { (2...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }

    /// The language a process's environment names: LC_ALL, else LC_MESSAGES, else LANG (the
    /// first that names one; `C` and `POSIX` name none).
    public static func fromEnvironment(_ env: [String: String]) -> String? {
        ["LC_ALL", "LC_MESSAGES", "LANG"].lazy.compactMap { fromPOSIX(env[$0]) }.first
    }

    /// What a POSIX locale (`LANG=zh_CN.UTF-8`) names as a tag: `zh-CN`; nil for `C`, `POSIX` or
    /// nothing.
    public static func fromPOSIX(_ value: String?) -> String? {
        guard var v = value?.trimmingSpaces, !v.isEmpty else { return nil }
        if let dot = v.firstIndex(of: ".") { v = String(v[..<dot]) }
        if let at = v.firstIndex(of: "@") { v = String(v[..<at]) }
        guard v != "C", v != "POSIX" else { return nil }
        let tag = v.replacingUnderscores
        let parts = tag.split(separator: "-")
        guard let lang = parts.first else { return nil }
        let normal = ([lang.lowercased()] + parts.dropFirst().map { $0.count == 2 ? $0.uppercased() : String($0) }).joined(separator: "-")
        return isValid(normal) ? normal : nil
    }

    /// The language part: `zh` of `zh-CN`.
    public static func language(_ tag: String) -> Substring { tag.split(separator: "-").first ?? Substring(tag) }
}

extension String {
    public var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
    fileprivate var replacingUnderscores: String { String(map { $0 == "_" ? "-" : $0 }) }
}

extension Workspace {
    /// The default workspace's document reading in `locale` (`"locale"` added after its name), as
    /// `opps-hub init --locale` writes it.
    public static func defaultDocument(locale: String?) -> String {
        guard let locale, LocaleTag.isValid(locale) else { return defaultDocument }
        let anchor = "\"name\": \"default\",\n"
        let parts = defaultDocument.components(separatedBy: anchor)
        guard parts.count == 2 else { return defaultDocument }
        return parts[0] + anchor + "  \"locale\": \"\(locale)\",\n" + parts[1]
    }

    /// Every language some label of this workspace is written in, sorted.
    public var locales: [String] {
        var tags = Set<String>()
        for r in roles { tags.formUnion(r.labels.keys) }
        for s in stages { tags.formUnion(s.labels.keys) }
        for e in entities {
            tags.formUnion(e.labels.keys)
            for g in e.groups { tags.formUnion(g.labels.keys) }
            for f in e.fields {
                tags.formUnion(f.labels.keys)
                for m in f.memberLabels.values { tags.formUnion(m.keys) }
            }
        }
        if let locale { tags.insert(locale) }
        return tags.sorted()
    }

    /// The language to show: the first preference this workspace has labels in (exactly, else
    /// the same language), then the workspace's own `locale`; nil: show names.
    public func displayLocale(preferring preferences: [String?]) -> String? {
        let have = locales
        for case let p? in preferences {
            if have.contains(p) { return p }
            if let same = have.first(where: { LocaleTag.language($0) == LocaleTag.language(p) }) { return same }
        }
        return locale
    }

    /// A stage by its name or any of its labels (any case), else the one stage whose name or a
    /// label begins with the input (`谈` for 谈判).
    public func stage(input: String) -> Stage? {
        stage(input) ?? stages.first { Self.matches(input, $0.labels) } ?? Self.onlyOne(startingWith: input, stages.map { ($0, $0.name, $0.labels) })
    }

    /// A record type by its name (any case) or any of its labels, else the one type whose name or
    /// a label begins with the input (`联系` for 联系人).
    public func entity(input: String) -> Entity? {
        entity(input) ?? entity(Self.nameForm(input)) ?? entities.first { Self.matches(input, $0.labels) }
            ?? Self.onlyOne(startingWith: input, entities.map { ($0, $0.name, $0.labels) })
    }

    /// Text as a name is written (names are lowercase, words joined by `_`): `Close Date` is
    /// `close_date`.
    public static func nameForm(_ input: String) -> String {
        String(input.trimmingSpaces.lowercased().map { $0 == " " ? "_" : $0 })
    }

    /// A role by its name or any of its labels (any case), else the one role whose name or a
    /// label begins with the input (`产品` for 产品专家).
    public func role(input: String) -> Role? {
        role(input) ?? roles.first { Self.matches(input, $0.labels) } ?? Self.onlyOne(startingWith: input, roles.map { ($0, $0.name, $0.labels) })
    }

    public static func matches(_ input: String, _ labels: Labels) -> Bool {
        let key = input.trimmingSpaces.lowercased()
        return !key.isEmpty && labels.values.contains { $0.lowercased() == key }
    }

    /// The one candidate whose name (exactly) or one of whose labels (any case) begins with
    /// `input` (two letters at least, or one Chinese character), or nil when none or several
    /// do: a rep types `展会` for 展会活动 as they type the first characters of an id, and a
    /// prefix two choices share is refused, never guessed.
    public static func onlyOne<T>(startingWith input: String, _ candidates: [(T, name: String, labels: Labels)]) -> T? {
        let typed = input.trimmingSpaces, key = typed.lowercased()
        guard key.count >= 2 || key.unicodeScalars.contains(where: { !$0.isASCII }) else { return nil }
        let hits = candidates.filter { $0.name.hasPrefix(typed) || $0.labels.values.contains { $0.lowercased().hasPrefix(key) } }
        return hits.count == 1 ? hits[0].0 : nil
    }
}

extension Entity {
    /// A field by its name or any of its labels (any case): `tech_risk`, `技术风险`; or by its
    /// name as a spreadsheet's header writes it (`Tech Risk`).
    public func field(input: String) -> Field? {
        field(input) ?? fields.first { Workspace.matches(input, $0.labels) } ?? field(Workspace.nameForm(input))
    }
}

extension Field {
    /// The member an input names, by name or any label (any case): `low`, `低`. Nil for a
    /// field that is not an enum or an input that names no member.
    public func member(input: String) -> String? {
        guard case let .enumeration(members) = type else { return nil }
        if members.contains(input) { return input }
        return members.first { Workspace.matches(input, memberLabels[$0] ?? [:]) }
            ?? Workspace.onlyOne(startingWith: input, members.map { ($0, $0, memberLabels[$0] ?? [:]) })
    }
}

/// The words of a workspace in one language: what `opps` prints in place of names.
public struct Vocabulary: Sendable {
    public let workspace: Workspace
    /// nil: names.
    public let locale: String?
    /// A name without a label in this language reads as words (`decision_makers` as "decision
    /// makers", lower case as the page's other words, so that it reads the same in a sentence): for
    /// a page, where nobody types the name back. The command line keeps names, which its reader
    /// types (`opps set ID close_date=…`).
    public let humanized: Bool

    public init(_ workspace: Workspace, locale: String?, humanized: Bool = false) {
        self.workspace = workspace
        self.locale = locale
        self.humanized = humanized
    }

    /// `close_date` as "close date": underscores as spaces.
    public static func humanize(_ name: String) -> String { String(name.map { $0 == "_" ? " " : $0 }) }

    /// Whether these words are Chinese (any `zh` locale): the sentences around them are too.
    public var readsChinese: Bool { locale.map { LocaleTag.language($0) == "zh" } ?? false }

    func pick(_ labels: Labels, _ name: String) -> String {
        if let locale, let label = labels[locale] { return label }
        return humanized ? Self.humanize(name) : name
    }

    public func stage(_ name: String) -> String { pick(workspace.stage(name)?.labels ?? [:], name) }
    public func role(_ name: String) -> String { pick(workspace.role(name)?.labels ?? [:], name) }
    public func entity(_ name: String) -> String { pick(workspace.entity(name)?.labels ?? [:], name) }
    public func field(_ entity: String, _ name: String) -> String { pick(workspace.entity(entity)?.field(name)?.labels ?? [:], name) }
    /// What a conflict is about: its field, or the whole record for one with no field (`""`: a
    /// create or a delete, refused or lost).
    public func conflictField(_ entity: String, _ name: String) -> String {
        guard name.isEmpty else { return field(entity, name) }
        return readsChinese ? "整条记录" : "the record"
    }
    /// A field group's heading: its label, else its name.
    public func group(_ entity: String, _ name: String) -> String { pick(workspace.entity(entity)?.group(name)?.labels ?? [:], name) }
    public func member(_ entity: String, _ field: String, _ member: String) -> String {
        pick(workspace.entity(entity)?.field(field)?.memberLabels[member] ?? [:], member)
    }

    /// A name beside its label, as a Chinese operator is shown the names they may type: `客户（account）`,
    /// the name alone when it has no label in this language.
    public func withName(_ label: String, _ name: String) -> String { label == name ? name : "\(label)（\(name)）" }

    /// A column header for a field: its label, else its name in capitals.
    public func header(_ entity: String, _ name: String) -> String {
        let text = field(entity, name)
        return text == name ? name.uppercased() : text
    }

    /// A value as text for display: an enum member as its label, a decimal with thousands
    /// separators (`120,000.00`), a percentage with its sign (`15%`, `40%`: `Field.numberText`),
    /// anything else canonical. What is shown is what `opps set` takes back.
    public func value(_ entity: String, _ field: String, _ value: Value) -> String {
        switch value {
        case let .member(m): return member(entity, field, m)
        case let .decimal(d): return number(entity, field, d)
        case let .integer(i) where workspace.entity(entity)?.field(field)?.unit != nil: return number(entity, field, ExactDecimal(units: i, scale: 0))
        // A name withheld from the reader (visibility.md §6) reads as someone.
        case .text(Workspace.withheldName) where workspace.entity(entity)?.field(field)?.type == .user: return authorName(Workspace.withheldName, chinese: readsChinese)
        default: return value.canonicalText
        }
    }

    /// A number of `field` as a reader reads it (`Field.numberText`; grouped for a field the
    /// workspace does not have).
    public func number(_ entity: String, _ field: String, _ number: ExactDecimal) -> String {
        workspace.entity(entity)?.field(field)?.numberText(number) ?? groupedAmount(number.description)
    }
}
