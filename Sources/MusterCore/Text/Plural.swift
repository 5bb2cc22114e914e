/// `1 line`, `3 lines`: a count with its noun, singular or plural, so no message says "1 lines".
public enum Plural {
    /// The count and the noun (its plural is the noun + `s` unless given).
    public static func count(_ count: Int, _ noun: String, plural: String? = nil) -> String {
        "\(count) \(count == 1 ? noun : plural ?? noun + "s")"
    }

    /// The noun alone, singular or plural for `count`.
    public static func noun(_ count: Int, _ noun: String, plural: String? = nil) -> String {
        count == 1 ? noun : plural ?? noun + "s"
    }
}
