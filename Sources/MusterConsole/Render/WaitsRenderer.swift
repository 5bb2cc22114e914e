import Foundation
import MusterCore

/// The waits view ("why is it stuck"): waiting nodes grouped by the requirement they wait on, with the
/// providers still missing and how long the nodes have waited.
enum WaitsRenderer {
    static func draw(_ frame: Frame, rows: Range<Int>, into grid: inout CellGrid) {
        let model = frame.model
        let state = frame.state
        let width = grid.size.width
        let waits = WaitsRows(model)
        guard waits.count > 0 else {
            for y in rows { grid.clear(row: y) }
            if rows.count > 2, let first = rows.first {
                let text = model.counts[.waiting] > 0 ? "  waiting nodes are being released" : "  no node is waiting"
                grid.draw(text, x: 0, y: first + 1, style: .dim)
            }
            return
        }
        let columns = TreeColumns(model, width: width)
        var cursor = state.waitsCursor
        cursor.scrollIntoView(count: waits.count, height: rows.count)
        for (offset, y) in rows.enumerated() {
            let index = cursor.top + offset
            guard let row = waits.row(at: index, model) else {
                grid.clear(row: y)
                continue
            }
            var line: StyledLine
            switch row {
            case .group(let label): line = groupLine(label, frame)
            case .node(let label, let node): line = nodeLine(node, label: label, frame, columns: columns)
            }
            if index == cursor.selected { line = StyledLine(line.text, .selection) }
            grid.draw(line, x: 0, y: y, width: width, fill: index == cursor.selected ? .selection : .text)
        }
    }

    static func groupLine(_ label: String, _ frame: Frame) -> StyledLine {
        let model = frame.model
        let (filled, expected) = model.progress(of: label)
        let waiting = model.waits.count(of: label)
        var line = StyledLine("\(frame.glyphs.state(.waiting)) ", .waiting)
        line.add(RequirementLabel.display(label), .accent)
        line.add("  \(filled)/\(expected) \(label == "*" ? "nodes registered" : "providers \(model.waitCondition(of: label).rawValue)")")
        line.add(frame.glyphs.separator + "\(waiting) waiting", .waiting)
        if let longest = model.waits.nodes(waitingOn: label, from: 0, limit: 1).first {
            line.add(", longest \(DurationText.between(model.nodes[longest].since, frame.now))", .dim)
        }
        if expected == 0 {
            line.add(frame.glyphs.separator + "no node provides it", .failed)
        } else {
            let missing = model.missingProviders(of: label, wait: model.waitCondition(of: label), limit: 3)
            if !missing.isEmpty {
                let named = missing.compactMap { name in
                    model.index(ofNode: name).map { "\(name) (\(model.nodes[$0].state.rawValue))" }
                }
                let more = expected - filled - missing.count
                line.add(frame.glyphs.separator + "missing: " + named.joined(separator: ", ") + (more > 0 ? " +\(more) more" : ""), .failed)
            }
        }
        return line
    }

    static func nodeLine(_ index: Int, label: String, _ frame: Frame, columns: TreeColumns) -> StyledLine {
        let model = frame.model
        let node = model.nodes[index]
        var line = StyledLine("    ")
        line.add("\(frame.glyphs.state(node.state)) ", .state(node.state))
        line.add(node.name.padded(toWidth: columns.name))
        line.add("  ")
        line.add((node.ip ?? "—").padded(toWidth: columns.address), node.ip == nil ? .dim : .text)
        line.add("  waited " + DurationText.between(node.since, frame.now).padded(toWidth: columns.age), .dim)
        let others = node.waitingOn.filter { $0 != label && !model.isMet($0) }
        if !others.isEmpty { line.add("  also waits on " + others.map(RequirementLabel.display).joined(separator: ", "), .waiting) }
        return line
    }
}
