/// FIELD=VALUE as a person types it: with `=`, or with the full-width `＝` an input method in
/// full-width mode (全角) types — the mode that also gives `５０`, which values already take. The
/// first sign of either kind ends the field's name; the value may hold more of them.
enum AssignmentWords {
    static func isSign(_ c: Character) -> Bool { c == "=" || c == "＝" }

    /// Whether `word` holds a sign (it is a pair, or starts one).
    static func isPair(_ word: String) -> Bool { word.contains(where: isSign) }

    /// The field's name and the value, split at the first sign; nil for a word with none.
    static func split(_ word: String) -> (field: String, value: String)? {
        guard let sign = word.firstIndex(where: isSign) else { return nil }
        return (String(word[..<sign]), String(word[word.index(after: sign)...]))
    }
}
