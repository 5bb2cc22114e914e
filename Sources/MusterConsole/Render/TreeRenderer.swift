import Foundation
import MusterCore

/// Column widths and positions of node rows at a screen width: `    ● ✓ NAME  ADDRESS  [HOST]  AGE  WHAT`.
struct TreeColumns {
    /// Where the name starts (indent, mark, state glyph).
    static let nameStart = 6
    var name: Int
    var address: Int
    var host: Int
    var age = 6

    init(_ model: ConsoleModel, width: Int) {
        name = max(8, min(32, model.longestName))
        address = max(7, min(15, model.longestAddress))
        host = width >= 140 ? 34 : 0
    }

    /// The column ranges, for the headings and mouse clicks on them.
    var spans: [(title: String, key: TreeSort.Key?, range: Range<Int>)] {
        var x = Self.nameStart
        var spans: [(String, TreeSort.Key?, Range<Int>)] = [("NAME", .name, x..<(x + name))]
        x += name + 2
        spans.append(("ADDRESS", .address, x..<(x + address)))
        x += address
        if host > 0 {
            spans.append(("HOST", nil, (x + 2)..<(x + 2 + host)))
            x += host + 2
        }
        spans.append(("AGE", .age, (x + 2)..<(x + 2 + age)))
        x += age + 2
        spans.append(("STATE", .state, (x + 2)..<(x + 40)))
        return spans
    }

    /// The sort action of the heading at column `x`.
    static func sortKey(at x: Int, model: ConsoleModel, width: Int) -> KeyAction? {
        guard let span = TreeColumns(model, width: width).spans.first(where: { $0.range.contains(x) }), let key = span.key else { return nil }
        switch key {
        case .name: return .sortByName
        case .address: return .sortByAddress
        case .age: return .sortByAge
        case .state: return .sortByState
        case .slot: return nil
        }
    }
}

/// The workspace tree: column headings, then context › workspace › node, one row each, only the visible ones.
enum TreeRenderer {
    typealias Columns = TreeColumns

    static func draw(_ frame: Frame, rows: Range<Int>, into grid: inout CellGrid) {
        let state = frame.state
        let model = frame.model
        let width = grid.size.width
        let columns = Columns(model, width: width)
        guard let headingRow = rows.first else { return }
        drawHeadings(frame, columns: columns, row: headingRow, into: &grid)
        let rows = rows.dropFirst()
        let selected = state.tree.index(of: state.treeSelection, model)
        for (offset, y) in rows.enumerated() {
            let index = state.treeTop + offset
            guard let row = state.tree.row(at: index, model) else {
                grid.clear(row: y)
                continue
            }
            var line: StyledLine
            switch row {
            case .context: line = contextLine(frame)
            case .workspace(let workspace): line = workspaceLine(workspace, frame, columns: columns)
            case .node(let node): line = nodeLine(node, frame, columns: columns)
            case .otherContext(let id): line = otherContextLine(id, frame)
            }
            if index == selected { line = StyledLine(line.text, .selection) }
            grid.draw(line, x: 0, y: y, width: width, fill: index == selected ? .selection : .text)
        }
        if model.nodes.isEmpty, let first = rows.first, rows.count > 2 {
            let text =
                model.hasContext
                ? "  this context has no nodes"
                : (state.options.readOnly
                    ? "  no context shown: press 0 for the contexts" : "  no context shown: press 0 for the contexts, l to launch one")
            grid.draw(text, x: 0, y: first + 1, style: .dim)
        }
    }

    /// `NAME▲  ADDRESS  AGE  STATE`: the sortable columns, the current order marked.
    static func drawHeadings(_ frame: Frame, columns: Columns, row: Int, into grid: inout CellGrid) {
        let sort = frame.state.tree.sort
        grid.clear(row: row, style: .dim)
        for span in columns.spans {
            var title = span.title
            if let key = span.key, key == sort.key {
                title += frame.glyphs.rule == "-" ? (sort.descending ? "v" : "^") : (sort.descending ? "▼" : "▲")
            }
            grid.draw(title, x: span.range.lowerBound, y: row, style: span.key == sort.key ? .accent : .dim, limit: span.range.count + 1)
        }
        if sort == .slot {
            let hint = "sort: N S A I"
            if grid.size.width > TextWidth.of(hint) + 60 { grid.draw(hint, x: grid.size.width - TextWidth.of(hint) - 1, y: row, style: .dim) }
        }
    }

    static func contextLine(_ frame: Frame) -> StyledLine {
        let model = frame.model
        let state = frame.state
        let folded = state.tree.collapsed.count == model.workspaces.count && !model.workspaces.isEmpty
        var line = StyledLine("\(folded ? frame.glyphs.folded : frame.glyphs.unfolded) ", .dim)
        line.add(model.hasContext ? model.contextName : "—", .header)
        line.add("  \(model.contextID?.rawValue ?? "")", .dim)
        line.add("  \(model.workspaces.count) workspace\(model.workspaces.count == 1 ? "" : "s")", .dim)
        line.add(frame.glyphs.separator, .dim)
        line.add(model.counts.summary, summaryStyle(model.counts))
        return line
    }

    /// Another context, folded: its name, id, status and nodes by state (from the broker's list of contexts).
    static func otherContextLine(_ id: ContextID, _ frame: Frame) -> StyledLine {
        var line = StyledLine("\(frame.glyphs.folded) ", .dim)
        guard let summary = frame.model.contextSummaries.first(where: { $0.id == id }) else {
            line.add(id.rawValue, .dim)
            return line
        }
        line.add(summary.name, .header)
        line.add("  \(id.rawValue)", .dim)
        let (word, style) = ContextsRenderer.outcome(summary.status)
        line.add("  " + word, style)
        let counts = StateCounts(summary.status.counts)
        line.add(frame.glyphs.separator, .dim)
        line.add(counts.summary, summaryStyle(counts))
        return line
    }

    static func workspaceLine(_ workspace: Int, _ frame: Frame, columns: Columns) -> StyledLine {
        let model = frame.model
        let record = model.workspaces[workspace]
        let folded = frame.state.tree.collapsed.contains(workspace)
        var line = StyledLine("  \(folded ? frame.glyphs.folded : frame.glyphs.unfolded) ", .dim)
        line.add(record.name.padded(toWidth: max(columns.name + 2, TextWidth.of(record.name))), .accent)
        line.add("  ")
        line.add(record.counts.summary, summaryStyle(record.counts))
        let shown = frame.state.tree.shownNodeCount(of: workspace, model)
        if shown != record.nodes.count { line.add("  (\(shown) shown)", .prompt) }
        let labels = record.requirementLabels
        if !labels.isEmpty { line.add("   requires " + labels.map(RequirementLabel.display).joined(separator: ", "), .dim) }
        if !record.roles.isEmpty { line.add("   provides " + record.roles.joined(separator: ", "), .dim) }
        return line
    }

    static func nodeLine(_ index: Int, _ frame: Frame, columns: Columns) -> StyledLine {
        let model = frame.model
        let node = model.nodes[index]
        let style = StyleRole.state(node.state)
        let marked = frame.state.marks.contains(index)
        var line = StyledLine("  ")
        line.add(marked ? (frame.glyphs.rule == "-" ? "* " : "● ") : "  ", .marked)
        line.add("\(frame.glyphs.state(node.state)) ", style)
        line.add(node.name.padded(toWidth: columns.name), marked ? .marked : .text)
        line.add("  ")
        line.add((node.ip ?? "—").padded(toWidth: columns.address), node.ip == nil ? .dim : .text)
        if columns.host > 0 { line.add("  " + (node.identities.first?.hostname ?? "").padded(toWidth: columns.host), .dim) }
        line.add("  " + DurationText.between(node.since, frame.now).padded(toWidth: columns.age), .dim)
        line.add("  ")
        line.add(what(index, model), style)
        return line
    }

    /// What a node is doing, in a few words: `waits: rabbitmq-head 0/1`, `running 1-ipandhost/…`, `failed: …`.
    static func what(_ index: Int, _ model: ConsoleModel) -> String {
        let node = model.nodes[index]
        switch node.state {
        case .waiting:
            return model.waitText(of: index) ?? "waiting"
        case .configuring:
            if let run = node.currentScript { return "running \(run.script.script)" }
            return "configuring"
        case .failed, .timedOut, .killed:
            var text = node.state.rawValue
            if let code = node.exitCode { text += " (exit \(code))" }
            if let message = node.message { text += ": \(MessageText.oneLine(message))" }
            return text
        default:
            return node.state.rawValue
        }
    }

    static func summaryStyle(_ counts: StateCounts) -> StyleRole {
        if counts[.failed] + counts[.timedOut] > 0 { return .failed }
        if counts.total > 0 && counts[.ok] == counts.total { return .ok }
        if counts[.waiting] > 0 { return .waiting }
        return .text
    }
}
