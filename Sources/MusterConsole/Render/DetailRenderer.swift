import Foundation
import MusterCore

/// A node's detail: the information block, then its live output (stderr marked, search matches highlighted).
enum DetailRenderer {
    static func draw(_ frame: Frame, rows: Range<Int>, into grid: inout CellGrid) {
        let model = frame.model
        guard let detail = frame.state.detail, detail.node < model.nodes.count else {
            for y in rows { grid.clear(row: y) }
            return
        }
        let width = grid.size.width
        let layout = DetailLayout(model: model, node: detail.node, body: rows, options: frame.state.options, now: frame.now)
        for (offset, y) in layout.infoRows.enumerated() { grid.draw(layout.info[offset], x: 0, y: y, width: width) }

        let pane = frame.state.outputPane(detail, model)
        let height = layout.output.count
        let top = detail.follow ? pane.followTop(height: height) : detail.top
        drawTitle(frame, detail: detail, pane: pane, top: top, height: height, row: layout.outputTitle, into: &grid)
        let shown = pane.rows(from: top, height: height)
        for (offset, y) in layout.output.enumerated() {
            guard offset < shown.count, let line = pane.lines.element(atAbsolute: shown[offset].line) else {
                grid.clear(row: y)
                continue
            }
            drawRow(shown[offset], line: line, frame: frame, detail: detail, y: y, into: &grid)
        }
        if pane.end == pane.first, let first = layout.output.first {
            let node = model.nodes[detail.node]
            let attempt = detail.shownAttempt(latest: node.generation)
            let text: String
            if model.outputAttempt(of: detail.node) != attempt {
                text = "  fetching the output of attempt \(attempt + 1)…"
            } else if node.state.isTerminal || node.state == .configuring || attempt < node.generation {
                text = "  no output received"
            } else {
                text = "  no output yet: scripts run once the node is released"
            }
            grid.draw(text, x: 0, y: first, style: .dim)
        }
    }

    private static func drawTitle(
        _ frame: Frame,
        detail: DetailViewState,
        pane: OutputPane,
        top: Int,
        height: Int,
        row: Int,
        into grid: inout CellGrid
    ) {
        let rule = String(frame.glyphs.rule)
        var line = StyledLine(rule + " output ", .title)
        let total = pane.end
        var facts: [String] = []
        let node = frame.model.nodes[detail.node]
        if node.generation > 0 {
            let shown = detail.shownAttempt(latest: node.generation)
            facts.append("attempt \(shown + 1) of \(node.generation + 1)\(shown == node.generation ? "" : ", not the latest") ([ ])")
        }
        facts.append(Plural.count(total, "line"))
        if pane.first > 0 { facts.append("first \(pane.first) dropped") }
        facts.append(detail.follow ? "following" : "line \(min(top + 1, max(total, 1)))")
        facts.append(detail.wrap ? "wrap" : "no wrap")
        if let search = detail.search { facts.append("/\(search)") }
        line.add(facts.joined(separator: frame.glyphs.separator) + " ", .title)
        let width = grid.size.width
        line.add(String(repeating: rule, count: max(0, width - line.width)), .title)
        grid.draw(line, x: 0, y: row, width: width, fill: .title)
    }

    private static func drawRow(
        _ row: OutputPane.Row,
        line: OutputLine,
        frame: Frame,
        detail: DetailViewState,
        y: Int,
        into grid: inout CellGrid
    ) {
        let glyphs = frame.glyphs
        let width = grid.size.width
        var text = StyledLine()
        if row.isFirst {
            let marker: Character =
                switch line.stream {
                case .stderr: glyphs.stderr
                case .stdout: glyphs.stdout
                case .agent: glyphs.agent
                }
            text.add("\(line.phase)", .dim)
            text.add("\(marker) ", line.stream == .stderr ? .stderr : .dim)
        } else {
            text.add(String(repeating: " ", count: OutputPane.gutterWidth))
        }
        let style: StyleRole =
            switch line.stream {
            case .stderr: .stderr
            case .agent: .agent
            case .stdout: .text
            }
        let shown = detail.wrap ? row.text : row.text.truncated(toWidth: width - OutputPane.gutterWidth)
        text.add(shown, style)
        grid.draw(text, x: 0, y: y, width: width)
        if let search = detail.search, !search.isEmpty {
            highlight(search, in: shown, x: OutputPane.gutterWidth, y: y, into: &grid)
        }
    }

    /// Restyles every case-insensitive occurrence of `search` in `text` drawn at column `x`.
    private static func highlight(_ search: String, in text: String, x: Int, y: Int, into grid: inout CellGrid) {
        var searchRange = text.startIndex..<text.endIndex
        while let found = text.range(of: search, options: .caseInsensitive, range: searchRange) {
            let column = x + TextWidth.of(text[text.startIndex..<found.lowerBound])
            grid.restyle(row: y, from: column, count: TextWidth.of(text[found]), style: .match)
            searchRange = found.upperBound..<text.endIndex
            if found.isEmpty { break }
        }
    }
}
