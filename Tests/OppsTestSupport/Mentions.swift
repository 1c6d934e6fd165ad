/// Whether a printed text names someone: `name` as a word of its own, not inside another. A
/// random id such as `0sam48cm` does not name sam; `sam`, `(for sam)` and `sam's` do.
extension String {
    public func mentions(_ name: String) -> Bool {
        var from = startIndex
        while let found = self[from...].range(of: name) {
            let before = found.lowerBound == startIndex ? nil : self[index(before: found.lowerBound)]
            let after = found.upperBound == endIndex ? nil : self[found.upperBound]
            if !Self.joins(before) && !Self.joins(after) { return true }
            from = index(after: found.lowerBound)
        }
        return false
    }

    /// A character that would make the match part of a longer word or id.
    private static func joins(_ c: Character?) -> Bool {
        guard let c else { return false }
        return c.isLetter || c.isNumber || c == "_" || c == "-"
    }
}
