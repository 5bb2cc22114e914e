/// Renders a grid as plain text, optionally followed by a style map: one letter per cell naming its
/// ``StyleRole`` (see ``StyleRole/legendLetter``), so text snapshots also catch colour regressions.
public enum TextSnapshot {
    /// The grid's text, one line per row, trailing spaces removed.
    public static func text(_ grid: CellGrid) -> String {
        (0..<grid.size.height).map { grid.text(ofRow: $0) }.joined(separator: "\n") + "\n"
    }

    /// The grid's text, then a legend and the style map.
    public static func textWithStyles(_ grid: CellGrid) -> String {
        var result = text(grid)
        let legend = StyleRole.allCases.map { "\($0.legendLetter == " " ? "␠" : String($0.legendLetter))=\($0.themeKey)" }
        result += "--- styles: " + legend.joined(separator: " ") + "\n"
        for y in 0..<grid.size.height {
            var line = ""
            for x in 0..<grid.size.width { line.append(grid[x, y].style.legendLetter) }
            while line.last == " " { line.removeLast() }
            result += line + "\n"
        }
        return result
    }
}
