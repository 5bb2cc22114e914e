import Foundation
import MusterCore

/// The tree's filter, parsed once where it is typed: words that must all match a node.
///
/// A word is plain text (a case-insensitive part of the name, state, address or host name), `/regex/` (on the
/// same fields), or `field:value` with the fields `state`, `name`, `ws` (or `workspace`), `ip`, `host` and
/// `waits` (a role the node waits on). `!` before a word inverts it; `!` alone before everything inverts the
/// whole filter. `state:failed !app /db-[0-9]+/`.
public struct NodeFilter: Sendable, Hashable {
    /// One test.
    enum Term: Sendable, Hashable {
        case text(String)
        case pattern(Pattern)
        case field(Field, String)
    }

    /// The fields a `field:value` word can name.
    enum Field: String, Sendable, Hashable {
        case state, name, workspace, ip, host, waits
    }

    /// A compiled regular expression (compared by its source).
    struct Pattern: @unchecked Sendable, Hashable {
        let source: String
        let expression: NSRegularExpression

        static func == (lhs: Pattern, rhs: Pattern) -> Bool { lhs.source == rhs.source }
        func hash(into hasher: inout Hasher) { hasher.combine(source) }

        func matches(_ text: String) -> Bool {
            expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
    }

    /// The text as typed.
    public let text: String
    /// Why the text is not a valid filter, if it is not (the filter then matches every node).
    public let problem: String?
    private let terms: [(term: Term, inverted: Bool)]
    /// Whether a lone `!` before every word inverts the whole filter.
    private let wholeInverted: Bool

    /// Parses a filter.
    public init(_ text: String) {
        self.text = text
        var terms: [(Term, Bool)] = []
        var problem: String?
        var words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        // `! a b` is "not (a and b)"; `!a b` is "(not a) and b".
        let wholeInverted = words.first.map { $0.allSatisfy { $0 == "!" } && $0.count % 2 == 1 } ?? false
        if words.first?.allSatisfy({ $0 == "!" }) == true { words.removeFirst() }
        for word in words {
            var word = word
            var inverted = false
            while word.hasPrefix("!") {
                inverted.toggle()
                word.removeFirst()
            }
            guard !word.isEmpty else { continue }
            if word.count >= 2, word.hasPrefix("/"), word.hasSuffix("/") {
                let source = String(word.dropFirst().dropLast())
                do {
                    let expression = try NSRegularExpression(pattern: source, options: [.caseInsensitive])
                    terms.append((.pattern(Pattern(source: source, expression: expression)), inverted))
                } catch {
                    problem = "/\(source)/ is not a regular expression"
                }
                continue
            }
            if let colon = word.firstIndex(of: ":"), colon != word.startIndex {
                let name = word[..<colon].lowercased()
                let value = String(word[word.index(after: colon)...]).lowercased()
                let field: Field? =
                    switch name {
                    case "state", "s": .state
                    case "name", "n": .name
                    case "ws", "workspace", "w": .workspace
                    case "ip", "address": .ip
                    case "host", "hostname": .host
                    case "waits", "wait", "role": .waits
                    default: nil
                    }
                if let field {
                    terms.append((.field(field, value), inverted))
                    continue
                }
            }
            terms.append((.text(word.lowercased()), inverted))
        }
        // A filter that cannot be read shows every node, rather than the nodes of the words that could be.
        self.terms = problem == nil ? terms : []
        self.problem = problem
        self.wholeInverted = wholeInverted && !terms.isEmpty
    }

    public static func == (lhs: NodeFilter, rhs: NodeFilter) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// Whether the filter lets every node through (nothing typed).
    public var isEmpty: Bool { terms.isEmpty }

    /// Whether a node of workspace `workspace` matches every word.
    public func matches(_ node: ConsoleNode, workspace: String) -> Bool {
        for (term, inverted) in terms where Self.test(term, node, workspace) == inverted { return wholeInverted }
        return !wholeInverted
    }

    private static func test(_ term: Term, _ node: ConsoleNode, _ workspace: String) -> Bool {
        switch term {
        case .text(let text):
            if node.name.range(of: text, options: .caseInsensitive) != nil { return true }
            if node.state.rawValue.contains(text) { return true }
            return node.identities.contains { $0.ip.contains(text) || $0.hostname.range(of: text, options: .caseInsensitive) != nil }
        case .pattern(let pattern):
            if pattern.matches(node.name) || pattern.matches(node.state.rawValue) { return true }
            return node.identities.contains { pattern.matches($0.ip) || pattern.matches($0.hostname) }
        case .field(let field, let value):
            switch field {
            case .state: return node.state.rawValue == value || (value == "timedout" && node.state == .timedOut)
            case .name: return node.name.lowercased().contains(value)
            case .workspace: return workspace.lowercased() == value
            case .ip: return node.identities.contains { $0.ip.hasPrefix(value) }
            case .host: return node.identities.contains { $0.hostname.lowercased().contains(value) }
            case .waits: return node.waitingOn.contains { $0.lowercased() == value || (value == "identities" && $0 == "*") }
            }
        }
    }
}

/// The order of nodes within each workspace of the tree.
public struct TreeSort: Sendable, Hashable {
    /// What nodes are ordered by.
    public enum Key: String, Sendable, Hashable {
        /// Slot order (the document's; the default).
        case slot
        /// Name.
        case name
        /// State, in lifecycle order.
        case state
        /// Time in the current state, longest first.
        case age
        /// The first NIC's address, numerically.
        case address
    }

    /// What nodes are ordered by.
    public var key: Key
    /// Whether the order is reversed.
    public var descending: Bool

    /// Slot order.
    public static let slot = TreeSort(key: .slot, descending: false)

    /// Creates an order.
    public init(key: Key, descending: Bool) {
        self.key = key
        self.descending = descending
    }

    /// Whether `a` comes before `b` (ties in slot order, so that the order is total and stable).
    func precedes(_ a: ConsoleNode, _ b: ConsoleNode) -> Bool {
        let ordered: Bool?
        switch key {
        case .slot: ordered = nil
        case .name: ordered = a.name == b.name ? nil : a.name.localizedStandardCompare(b.name) == .orderedAscending
        case .state: ordered = a.state == b.state ? nil : a.state < b.state
        case .age: ordered = a.since == b.since ? nil : a.since < b.since
        case .address:
            let left = Self.numeric(a.ip)
            let right = Self.numeric(b.ip)
            ordered = left == right ? nil : left < right
        }
        guard let ordered else { return a.slot < b.slot }
        return ordered != descending
    }

    /// An address as a number for sorting (nodes without one last).
    private static func numeric(_ ip: String?) -> UInt64 {
        guard let ip else { return .max }
        let parts = ip.split(separator: ".").compactMap { UInt64($0) }
        guard parts.count == 4 else { return .max - 1 }
        return parts.reduce(0) { $0 << 8 | $1 }
    }

    /// The next order after pressing the key for `key`: ascending, then descending, then slot order.
    func next(pressing key: Key) -> TreeSort {
        guard self.key == key else { return TreeSort(key: key, descending: false) }
        return descending ? .slot : TreeSort(key: key, descending: true)
    }
}
