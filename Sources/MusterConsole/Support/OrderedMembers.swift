/// A set of node indices kept in insertion order, with O(log n) insertion, removal and access by rank.
///
/// The waits view lists waiting nodes in the order they started waiting, and thousands of them can be released
/// by one check-in. Removal only clears a slot in a Fenwick tree (no shifting), and the k-th member is found by
/// binary lifting, so neither applying an event nor drawing a screenful of rows walks the whole set. Cleared
/// slots are compacted away once they outnumber the members (amortised O(1)).
struct OrderedMembers: Sendable, Hashable {
    private var slots: [Int] = []
    private var positions: [Int: Int] = [:]
    private var tree: [Int] = [0]

    /// The number of members.
    var count: Int { positions.count }

    /// Whether there is no member.
    var isEmpty: Bool { positions.isEmpty }

    /// Whether `member` is in the set.
    func contains(_ member: Int) -> Bool { positions[member] != nil }

    /// Adds `member` at the end (no change if it is already a member).
    mutating func append(_ member: Int) {
        guard positions[member] == nil else { return }
        if slots.count + 1 >= tree.count { grow() }
        slots.append(member)
        positions[member] = slots.count - 1
        add(1, at: slots.count - 1)
    }

    /// Removes `member` if present.
    mutating func remove(_ member: Int) {
        guard let position = positions.removeValue(forKey: member) else { return }
        add(-1, at: position)
        if slots.count > 32 && slots.count > 2 * positions.count { rebuild(capacity: tree.count - 1) }
    }

    /// The member of rank `rank` (0-based, in insertion order).
    func member(at rank: Int) -> Int {
        precondition(rank >= 0 && rank < count, "rank out of range")
        var position = 0
        var remaining = rank + 1
        var step = 1
        while step * 2 < tree.count { step *= 2 }
        while step > 0 {
            let next = position + step
            if next < tree.count && tree[next] < remaining {
                position = next
                remaining -= tree[next]
            }
            step /= 2
        }
        return slots[position]
    }

    /// The members from rank `start`, at most `limit` of them.
    func members(from start: Int, limit: Int) -> [Int] {
        guard start < count, limit > 0 else { return [] }
        return (start..<min(count, start + limit)).map(member(at:))
    }

    /// Every member in order (O(n); for tests and small sets).
    var all: [Int] { members(from: 0, limit: count) }

    private mutating func add(_ delta: Int, at position: Int) {
        var index = position + 1
        while index < tree.count {
            tree[index] += delta
            index += index & -index
        }
    }

    private mutating func grow() {
        rebuild(capacity: max(16, (tree.count - 1) * 2))
    }

    /// Drops cleared slots and rebuilds the tree in O(capacity).
    private mutating func rebuild(capacity: Int) {
        let live = slots.filter { positions[$0] != nil }
        slots = live
        var size = max(16, capacity)
        while size < live.count + 1 { size *= 2 }
        tree = Array(repeating: 0, count: size + 1)
        positions.removeAll(keepingCapacity: true)
        for (position, member) in live.enumerated() { positions[member] = position }
        for index in 1..<tree.count {
            if index <= live.count { tree[index] += 1 }
            let parent = index + (index & -index)
            if parent < tree.count { tree[parent] += tree[index] }
        }
    }
}
