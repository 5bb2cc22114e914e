extension Array {
    /// The elements in order, keeping only the last of those that share a key (linear time).
    func keepingLast<Key: Hashable>(by key: (Element) -> Key) -> [Element] {
        guard count > 1 else { return self }
        var last: [Key: Int] = [:]
        last.reserveCapacity(count)
        for (index, element) in enumerated() { last[key(element)] = index }
        guard last.count < count else { return self }
        return enumerated().filter { last[key($0.element)] == $0.offset }.map(\.element)
    }
}
