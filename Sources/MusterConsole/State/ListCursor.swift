/// A selection and scroll position in a list of rows.
public struct ListCursor: Sendable, Hashable {
    /// The selected row.
    public var selected = 0
    /// The first row shown.
    public var top = 0

    /// Creates a cursor at the first row.
    public init() {}

    /// Moves the selection by `delta` rows within `count` rows and scrolls so it stays within `height` rows.
    mutating func move(by delta: Int, count: Int, height: Int) {
        select(selected + delta, count: count, height: height)
    }

    /// Selects a row (clamped) and scrolls it into view.
    mutating func select(_ row: Int, count: Int, height: Int) {
        selected = max(0, min(count - 1, row))
        scrollIntoView(count: count, height: height)
    }

    /// Scrolls so the selection is visible and no space is wasted below the last row.
    mutating func scrollIntoView(count: Int, height: Int) {
        guard count > 0, height > 0 else {
            selected = 0
            top = 0
            return
        }
        selected = max(0, min(count - 1, selected))
        if selected < top { top = selected }
        if selected >= top + height { top = selected - height + 1 }
        top = max(0, min(top, count - height))
    }
}
