import Foundation
import MusterCore

/// The timeline view: each node (in tree order, under the tree's filter) as a bar over wall time, segmented by
/// what it did: booting (launch to check-in), waiting, each script by its phase digit, then ok or failed; the
/// critical chain (what decided when the context completed) is drawn in its own style, and named on the first
/// row. Only the visible rows are built; the chain costs one pass over the nodes.
enum TimelineRenderer {
    static func draw(_ frame: Frame, rows: Range<Int>, into grid: inout CellGrid) {
        let model = frame.model
        let state = frame.state
        let width = grid.size.width
        guard rows.count >= 3, let chainRow = rows.first, let start = model.createdAt else {
            for y in rows { grid.clear(row: y) }
            if let first = rows.first { grid.draw("  no context shown", x: 0, y: first, style: .dim) }
            return
        }
        let chain = model.criticalChain
        let end = max(model.completedAt ?? frame.now, start.addingTimeInterval(1))
        let nameWidth = max(8, min(28, model.longestName)) + 6
        let barWidth = max(10, width - nameWidth - 2)
        let scale = Scale(start: start, end: end, columns: barWidth)

        var summary = StyledLine(" critical chain ", .critical)
        if let chain {
            let total = chain.end.timeIntervalSince(start)
            summary.add("(\(DurationText.precise(total))): ", .dim)
            summary.add(chain.summary, .text)
        } else {
            summary.add("appears once a node has finished", .dim)
        }
        grid.draw(summary, x: 0, y: chainRow, width: width)

        let axisRow = rows.lowerBound + 1
        var axis = StyledLine(String(repeating: " ", count: nameWidth + 1))
        let marks = max(2, min(6, barWidth / 14))
        var ticks = String(repeating: " ", count: barWidth)
        var labels: [(Int, String)] = []
        for mark in 0...marks {
            let column = min(barWidth - 1, mark * (barWidth - 1) / marks)
            let text = DurationText.precise(scale.time(at: column).timeIntervalSince(start))
            labels.append((column, text))
        }
        var characters = Array(ticks)
        for (column, text) in labels {
            let begin = min(max(0, column - (column == barWidth - 1 ? text.count - 1 : 0)), max(0, barWidth - text.count))
            for (offset, character) in text.enumerated() where begin + offset < characters.count { characters[begin + offset] = character }
        }
        ticks = String(characters)
        axis.add(ticks, .dim)
        grid.draw(axis, x: 0, y: axisRow, width: width)

        let nodes = state.tree.shownNodes(model)
        let onChain = Set(chain?.nodes ?? [])
        let body = rows.dropFirst(2)
        var cursor = state.timelineCursor
        cursor.scrollIntoView(count: nodes.count, height: body.count)
        for (offset, y) in body.enumerated() {
            let index = cursor.top + offset
            guard index < nodes.count else {
                grid.clear(row: y)
                continue
            }
            let node = model.nodes[nodes[index]]
            let selected = index == cursor.selected
            var line = StyledLine(" ")
            let critical = onChain.contains(node.name)
            line.add(critical ? (frame.glyphs.rule == "-" ? "* " : "★ ") : "  ", .critical)
            line.add("\(frame.glyphs.state(node.state)) ", .state(node.state))
            line.add(node.name.padded(toWidth: nameWidth - 5) + " ", selected ? .selection : (critical ? .critical : .text))
            for span in bar(node, index: nodes[index], model: model, scale: scale, chain: chain, glyphs: frame.glyphs) {
                line.add(span.text, span.style)
            }
            grid.draw(line, x: 0, y: y, width: width)
        }
    }

    /// Maps wall time to bar columns.
    struct Scale {
        var start: Date
        var end: Date
        var columns: Int

        var secondsPerColumn: Double { max(0.001, end.timeIntervalSince(start) / Double(columns)) }

        func column(of time: Date) -> Int { Int((time.timeIntervalSince(start) / secondsPerColumn).rounded(.down)) }

        func time(at column: Int) -> Date { start.addingTimeInterval(Double(column) * secondsPerColumn) }
    }

    /// The phase digits, made once.
    private static let digits: [Character] = (0...9).map { Character(String($0)) }

    /// What a node did in one column of time.
    enum Activity: Equatable {
        case idle, booting, waiting, released
        case script(Int)
        case finished(NodeState)
    }

    /// The bar of one node: one character per column.
    static func bar(_ node: ConsoleNode, index: Int, model: ConsoleModel, scale: Scale, chain: CriticalChain?, glyphs: Glyphs) -> [StyledLine.Span] {
        let ascii = glyphs.rule == "-"
        let links = chain?.links.filter { $0.node == node.name } ?? []
        // The node that finished last finished at the scale's end, one column past the bar: its mark goes in the
        // last column.
        let finishColumn = node.finishedAt.map { min(scale.columns - 1, scale.column(of: $0)) }
        var spans: [StyledLine.Span] = []
        // A run of columns of one style becomes one span, its text made once from its characters.
        var run: [Character] = []
        run.reserveCapacity(scale.columns)
        var runStyle: StyleRole?
        let until = model.completedAt ?? scale.end
        for column in 0..<scale.columns {
            let from = scale.time(at: column)
            let to = scale.time(at: column + 1)
            let middle = from.addingTimeInterval(to.timeIntervalSince(from) / 2)
            let activity: Activity
            if let finishColumn, column >= finishColumn {
                activity = column == finishColumn ? .finished(node.state) : .idle
            } else {
                activity = Self.activity(of: node, middle: middle, from: from, to: to, until: until)
            }
            let (character, style): (Character, StyleRole) =
                switch activity {
                case .idle: (" ", .text)
                case .booting: (ascii ? "-" : "─", .launching)
                case .waiting: (ascii ? "." : "·", .waiting)
                case .released: (ascii ? "=" : "━", .configuring)
                case .script(let phase): (phase >= 0 && phase < 10 ? Self.digits[phase] : "?", .configuring)
                case .finished(let state): (glyphs.state(state), .state(state))
                }
            let critical =
                activity != .idle && !links.isEmpty
                && links.contains { link in
                    (link.start ?? .distantPast) <= middle && middle <= link.end
                        && (link.kind != .scripts || activity != .waiting)
                }
            let shown: StyleRole = critical && style != .text ? .critical : style
            if shown != runStyle, let previous = runStyle {
                spans.append(StyledLine.Span(text: String(run), style: previous))
                run.removeAll(keepingCapacity: true)
            }
            runStyle = shown
            run.append(character)
        }
        if let runStyle { spans.append(StyledLine.Span(text: String(run), style: runStyle)) }
        return spans
    }

    /// What the node did around `middle` (the column from `from` to `to`), before the column of its finish.
    private static func activity(of node: ConsoleNode, middle: Date, from: Date, to: Date, until end: Date) -> Activity {
        for run in node.timeline.reversed() where run.started <= middle {
            if (run.finished ?? end) >= middle || (run.started >= from && run.started < to) { return .script(run.script.phase) }
            break
        }
        if let released = node.releasedAt, released <= middle { return node.finishedAt == nil && middle > end ? .idle : .released }
        if let registered = node.registeredAt, registered <= middle { return .waiting }
        if let launched = node.launchedAt, launched <= middle { return middle > end && node.finishedAt == nil ? .idle : .booting }
        return .idle
    }
}
