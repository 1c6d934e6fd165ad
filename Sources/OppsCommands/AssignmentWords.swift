import OppsCore

/// FIELD=VALUE as a person types it: with `=`, or with the full-width `＝` an input method in
/// full-width mode (全角) types — the mode that also gives `５０`, which values already take. The
/// first sign of either kind ends the field's name; the value may hold more of them.
enum AssignmentWords {
    static func isSign(_ c: Character) -> Bool { c == "=" || c == "＝" }

    /// Whether `word` holds a sign (it is a pair, or starts one).
    static func isPair(_ word: String) -> Bool { word.contains(where: isSign) }

    /// Whether `word` starts the FIELD=VALUE pairs after a new record's name: its FIELD names a
    /// field of `entity`, or looks like a name (letters, digits, `_`: a mistyped one is then
    /// refused by name, not made part of the record's name). A name may hold a sign elsewhere —
    /// `=HYPERLINK(…)`, typed in quotes, is a name.
    static func startsPairs(_ word: String, of entity: Entity?) -> Bool {
        guard let field = split(word)?.field else { return false }
        if entity?.field(input: field) != nil { return true }
        return !field.isEmpty && field.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// The field's name and the value, split at the first sign; nil for a word with none.
    static func split(_ word: String) -> (field: String, value: String)? {
        guard let sign = word.firstIndex(where: isSign) else { return nil }
        return (String(word[..<sign]), String(word[word.index(after: sign)...]))
    }
}
