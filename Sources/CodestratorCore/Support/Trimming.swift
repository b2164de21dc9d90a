extension String {
    /// The string without leading and trailing whitespace, as Foundation's
    /// `trimmingCharacters(in: .whitespaces)` (or `.whitespacesAndNewlines` when `newlines`), but in
    /// pure Swift: Foundation's version bridges through NSString on Linux and was the largest cost of
    /// validating a call's parameters. Most values need no trimming and are returned as they are.
    public func trimmedWhitespace(newlines: Bool = false) -> String {
        func isSpace(_ u: Unicode.Scalar) -> Bool {
            // CoreFoundation's sets, which Foundation uses on Linux (they include U+200B).
            switch u.value {
            case 0x09, 0x20, 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: return true
            case 0x0A...0x0D, 0x85, 0x2028, 0x2029: return newlines
            default: return false
            }
        }
        let scalars = unicodeScalars
        guard let first = scalars.first, let last = scalars.last, isSpace(first) || isSpace(last) else {
            return self
        }
        guard let start = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = scalars.lastIndex(where: { !isSpace($0) })!
        return String(scalars[start...end])
    }
}
