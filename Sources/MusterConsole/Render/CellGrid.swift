/// The size of a terminal screen in cells.
public struct ScreenSize: Sendable, Hashable, CustomStringConvertible {
    /// Columns.
    public var width: Int
    /// Rows.
    public var height: Int

    /// Creates a size.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public var description: String { "\(width)×\(height)" }
}

/// One cell of the screen: a grapheme and its style.
///
/// A wide (two-column) grapheme occupies its cell and the next; the next cell is a *continuation* cell that the
/// driver does not write.
public struct Cell: Sendable, Hashable {
    /// The grapheme shown (a space for an empty cell).
    public var character: Character
    /// The style role.
    public var style: StyleRole
    /// 1 for a normal cell, 2 for the first cell of a wide grapheme, 0 for the continuation of one.
    public var width: UInt8

    /// Creates a cell.
    public init(_ character: Character, style: StyleRole, width: UInt8 = 1) {
        self.character = character
        self.style = style
        self.width = width
    }

    /// An empty cell in a style.
    public static func blank(_ style: StyleRole = .text) -> Cell { Cell(" ", style: style) }
}

/// An in-memory screen: `width × height` cells that renderers draw into and drivers copy to a terminal.
///
/// Drawing clips to the grid and never wraps, so a renderer can draw without checking bounds. ``writes``
/// counts cells drawn, which lets tests prove that frame work depends on the screen, not on the data.
public struct CellGrid: Sendable, Hashable {
    /// The grid's size.
    public let size: ScreenSize
    /// Cells row by row.
    public private(set) var cells: [Cell]
    /// How many cells were drawn since creation.
    public private(set) var writes = 0

    /// Creates a grid of blank cells.
    public init(size: ScreenSize, fill: Cell = .blank()) {
        self.size = ScreenSize(width: max(0, size.width), height: max(0, size.height))
        cells = Array(repeating: fill, count: self.size.width * self.size.height)
    }

    /// The cell at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> Cell {
        cells[y * size.width + x]
    }

    /// Fills a row from column `x` to the end with blanks of a style.
    public mutating func clear(row y: Int, from x: Int = 0, style: StyleRole = .text) {
        guard y >= 0, y < size.height else { return }
        for column in max(0, x)..<size.width { set(column, y, .blank(style)) }
    }

    /// Draws `text` at column `x` of row `y`, clipped at `limit` columns (the grid's right edge by default);
    /// returns the column after the last cell drawn. A wide grapheme that does not fit is shown as a space.
    @discardableResult
    public mutating func draw(_ text: some StringProtocol, x: Int, y: Int, style: StyleRole, limit: Int? = nil) -> Int {
        guard y >= 0, y < size.height else { return x }
        let end = min(size.width, limit.map { x + $0 } ?? size.width)
        var column = x
        if TextWidth.isPrintableASCII(text) {
            // Most of what a console draws: one cell per byte, no grapheme breaking needed.
            for byte in text.utf8 {
                guard column < end else { break }
                if column >= 0 { set(column, y, Cell(Character(Unicode.Scalar(byte)), style: style)) }
                column += 1
            }
            return column
        }
        if TextWidth.isSimpleNarrow(text) {
            // The console's own glyphs (box drawing, arrows, bullets): a cell per scalar, still no grapheme breaking.
            for scalar in text.unicodeScalars {
                guard column < end else { break }
                if column >= 0 { set(column, y, Cell(Character(scalar), style: style)) }
                column += 1
            }
            return column
        }
        for character in text {
            guard column < end else { break }
            var shown = character
            var columns = TextWidth.of(character)
            if character.isControl {
                shown = "?"
                columns = 1
            }
            if columns == 0 { continue }
            if column < 0 {
                column += columns
                continue
            }
            if columns == 2 {
                if column + 1 >= end {
                    set(column, y, .blank(style))
                    column += 1
                    break
                }
                set(column, y, Cell(shown, style: style, width: 2))
                set(column + 1, y, Cell(" ", style: style, width: 0))
            } else {
                set(column, y, Cell(shown, style: style))
            }
            column += columns
        }
        return column
    }

    /// Draws `text` cut (with `…`) or padded to exactly `width` columns.
    @discardableResult
    public mutating func draw(_ text: String, x: Int, y: Int, style: StyleRole, width: Int) -> Int {
        draw(text.padded(toWidth: width), x: x, y: y, style: style, limit: width)
    }

    /// Restyles existing cells (for highlights) without changing their text.
    public mutating func restyle(row y: Int, from x: Int, count: Int, style: StyleRole) {
        guard y >= 0, y < size.height else { return }
        for column in max(0, x)..<min(size.width, x + count) {
            var cell = self[column, y]
            cell.style = style
            set(column, y, cell)
        }
    }

    private mutating func set(_ x: Int, _ y: Int, _ cell: Cell) {
        let index = y * size.width + x
        // Overwriting half of a wide grapheme blanks its other half, so no cell is left pointing at nothing.
        if cells[index].width == 0, x > 0, cells[index - 1].width == 2, cell.width != 0 {
            cells[index - 1] = .blank(cells[index - 1].style)
        }
        if cells[index].width == 2, x + 1 < size.width, cell.width != 2 {
            cells[index + 1] = .blank(cells[index + 1].style)
        }
        cells[index] = cell
        writes += 1
    }

    /// The text of one row (continuation cells left out), with trailing spaces removed.
    public func text(ofRow y: Int) -> String {
        var line = ""
        for x in 0..<size.width where self[x, y].width != 0 { line.append(self[x, y].character) }
        while line.last == " " { line.removeLast() }
        return line
    }
}

extension Character {
    /// Whether this is a control character (shown as `?`).
    fileprivate var isControl: Bool {
        guard let scalar = unicodeScalars.first else { return false }
        return scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value)
    }
}
