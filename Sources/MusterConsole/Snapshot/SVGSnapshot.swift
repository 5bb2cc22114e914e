/// Renders a grid as an SVG picture of a terminal: monospace text with the theme's colours, for README
/// screenshots and `muster console --snapshot FILE.svg`.
public enum SVGSnapshot {
    /// Cell width and height in pixels (a 14 px monospace font).
    public static let cellWidth = 8.4
    /// See ``cellWidth``.
    public static let cellHeight = 18.0

    /// The SVG document for a grid shown with a theme.
    public static func svg(_ grid: CellGrid, theme: Theme) -> String {
        let width = Double(grid.size.width) * cellWidth
        let height = Double(grid.size.height) * cellHeight
        let background = color(theme.previewBackground, fallback: "#1c1c1c")
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(format(width))" height="\(format(height))" \
            viewBox="0 0 \(format(width)) \(format(height))" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" \
            font-size="14">
            <rect width="100%" height="100%" fill="\(background)"/>

            """
        for y in 0..<grid.size.height {
            for run in runs(grid, row: y) {
                let style = theme.style(run.style)
                var foreground = color(style.foreground, fallback: color(theme.previewForeground, fallback: "#d0d0d0"))
                var fill = style.background == .terminalDefault ? nil : color(style.background, fallback: background)
                if style.reverse {
                    let swapped = fill ?? background
                    fill = foreground
                    foreground = swapped
                }
                let x = Double(run.x) * cellWidth
                let top = Double(y) * cellHeight
                if let fill {
                    svg += "<rect x=\"\(format(x))\" y=\"\(format(top))\" width=\"\(format(Double(run.width) * cellWidth))\" "
                    svg += "height=\"\(format(cellHeight))\" fill=\"\(fill)\"/>\n"
                }
                guard run.text.contains(where: { $0 != " " }) else { continue }
                var attributes = "x=\"\(format(x))\" y=\"\(format(top + cellHeight * 0.75))\" fill=\"\(foreground)\""
                if style.bold { attributes += " font-weight=\"bold\"" }
                if style.underline { attributes += " text-decoration=\"underline\"" }
                if style.dim { attributes += " fill-opacity=\"0.6\"" }
                attributes += " textLength=\"\(format(Double(run.width) * cellWidth))\" lengthAdjust=\"spacingAndGlyphs\""
                svg += "<text \(attributes) xml:space=\"preserve\">\(escape(run.text))</text>\n"
            }
        }
        return svg + "</svg>\n"
    }

    private struct Run {
        var x: Int
        var width: Int
        var text: String
        var style: StyleRole
    }

    /// Consecutive cells of one style in a row.
    private static func runs(_ grid: CellGrid, row y: Int) -> [Run] {
        var runs: [Run] = []
        for x in 0..<grid.size.width {
            let cell = grid[x, y]
            if cell.width == 0 {
                runs[runs.count - 1].width += 1
                continue
            }
            if let last = runs.last, last.style == cell.style {
                runs[runs.count - 1].text.append(cell.character)
                runs[runs.count - 1].width += 1
            } else {
                runs.append(Run(x: x, width: 1, text: String(cell.character), style: cell.style))
            }
        }
        return runs
    }

    private static func color(_ color: ThemeColor, fallback: String) -> String {
        guard let (red, green, blue) = color.rgbValue else { return fallback }
        return ThemeColor.rgb(UInt8(red), UInt8(green), UInt8(blue)).description
    }

    private static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    private static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}
