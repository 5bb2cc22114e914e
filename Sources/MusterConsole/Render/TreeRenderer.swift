import Foundation
import MusterCore

/// The workspace tree: context › workspace › node, one row each, only the visible ones.
enum TreeRenderer {
    /// Column widths for node rows at a screen width.
    struct Columns {
        var name: Int
        var address: Int
        var host: Int
        var age = 6

        init(_ model: ConsoleModel, width: Int) {
            name = max(8, min(32, model.longestName))
            address = max(7, min(15, model.longestAddress))
            host = width >= 140 ? 34 : 0
        }
    }

    static func draw(_ frame: Frame, rows: Range<Int>, into grid: inout CellGrid) {
        let state = frame.state
        let model = frame.model
        let width = grid.size.width
        let columns = Columns(model, width: width)
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
            }
            if index == selected { line = StyledLine(line.text, .selection) }
            grid.draw(line, x: 0, y: y, width: width, fill: index == selected ? .selection : .text)
        }
        if model.nodes.isEmpty, let first = rows.first, rows.count > 2 {
            grid.draw(model.hasContext ? "  this context has no nodes" : "  connecting to the broker…", x: 0, y: first + 2, style: .dim)
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
        var line = StyledLine("    ")
        line.add("\(frame.glyphs.state(node.state)) ", style)
        line.add(node.name.padded(toWidth: columns.name))
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
            if let message = node.message { text += ": \(message)" }
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
