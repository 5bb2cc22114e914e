/// A buffer that keeps the last `capacity` elements appended: appending is O(1) and, once full, drops the oldest.
///
/// Positions are 0-based from the oldest element still held. ``appendedCount`` counts every element ever appended,
/// so `droppedCount + position` is an *absolute* position that stays valid while older elements fall out.
public struct RingBuffer<Element>: RandomAccessCollection {
    /// The most elements held at once.
    public let capacity: Int
    private var storage: [Element] = []
    private var head = 0

    /// How many elements were appended since creation (or the last ``removeAll()``).
    public private(set) var appendedCount = 0

    /// Creates an empty buffer holding at most `capacity` elements.
    public init(capacity: Int) {
        precondition(capacity > 0, "a ring buffer needs room for at least one element")
        self.capacity = capacity
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.count }

    public subscript(position: Int) -> Element {
        precondition(position >= 0 && position < storage.count, "ring buffer position out of range")
        let physical = head + position
        return storage[physical < storage.count ? physical : physical - storage.count]
    }

    /// How many elements have fallen out because the buffer was full.
    public var droppedCount: Int { appendedCount - storage.count }

    /// Appends an element, dropping the oldest one when the buffer is full.
    public mutating func append(_ element: Element) {
        appendedCount += 1
        if storage.count < capacity {
            storage.append(element)
        } else {
            storage[head] = element
            head = head + 1 == capacity ? 0 : head + 1
        }
    }

    /// Removes every element and restarts the count.
    public mutating func removeAll() {
        storage = []
        head = 0
        appendedCount = 0
    }

    /// The element at an absolute position (see the type's documentation), if it is still held.
    public func element(atAbsolute absolute: Int) -> Element? {
        let position = absolute - droppedCount
        return position >= 0 && position < storage.count ? self[position] : nil
    }
}

extension RingBuffer: Sendable where Element: Sendable {}
