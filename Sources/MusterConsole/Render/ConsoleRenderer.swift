import Foundation
import MusterCore

/// What one frame shows: the model, the view state, and the time (pure code reads no clock).
public struct Frame: Sendable {
    /// The data.
    public var model: ConsoleModel
    /// The view state.
    public var state: ConsoleState
    /// The time the frame shows (durations are measured up to it).
    public var now: Date

    /// Creates a frame.
    public init(model: ConsoleModel, state: ConsoleState, now: Date) {
        self.model = model
        self.state = state
        self.now = now
    }

    var glyphs: Glyphs { state.options.glyphs }
    var layout: ConsoleLayout { state.layout(model) }
}

/// Draws a whole console frame into a ``CellGrid``: header, banner, view title, the view's visible rows, the
/// status line and any overlay.
///
/// Rendering is a pure function of the ``Frame``. Only visible rows are built, and every view finds its first
/// visible row through an index, so the work per frame is bounded by the screen size, not by the context.
public enum ConsoleRenderer {
    /// Renders a frame into a new grid of `frame.state.screen` size.
    public static func render(_ frame: Frame) -> CellGrid {
        var grid = CellGrid(size: frame.state.screen)
        render(frame, into: &grid)
        return grid
    }

    /// Renders a frame into `grid` (which must have the frame's screen size).
    public static func render(_ frame: Frame, into grid: inout CellGrid) {
        let layout = frame.layout
        guard layout.isUsable else {
            let minimum = ConsoleLayout.minimumSize
            grid.draw("terminal too small: \(grid.size) (need \(minimum))", x: 0, y: 0, style: .error)
            return
        }
        HeaderRenderer.draw(frame, into: &grid)
        if let banner = layout.banner { HeaderRenderer.drawBanner(frame, row: banner, into: &grid) }
        TitleRenderer.draw(frame, row: layout.title, into: &grid)
        switch frame.state.view {
        case .contexts: ContextsRenderer.draw(frame, rows: layout.body, into: &grid)
        case .tree: TreeRenderer.draw(frame, rows: layout.body, into: &grid)
        case .detail: DetailRenderer.draw(frame, rows: layout.body, into: &grid)
        case .waits: WaitsRenderer.draw(frame, rows: layout.body, into: &grid)
        case .events: EventsRenderer.draw(frame, rows: layout.body, into: &grid)
        case .timeline: TimelineRenderer.draw(frame, rows: layout.body, into: &grid)
        }
        StatusLineRenderer.draw(frame, row: layout.status, into: &grid)
        switch frame.state.overlay {
        case .help(let scroll): OverlayRenderer.drawHelp(frame, scroll: scroll, into: &grid)
        case .confirm(let dialog): OverlayRenderer.drawConfirm(dialog, frame, into: &grid)
        case .message(let box): OverlayRenderer.drawMessage(box, frame, into: &grid)
        case nil: break
        }
    }
}

/// The two header lines and the connection banner.
enum HeaderRenderer {
    static func draw(_ frame: Frame, into grid: inout CellGrid) {
        let model = frame.model
        let width = grid.size.width
        var title = StyledLine(" muster ", .accent)
        if model.hasContext {
            title.add(model.contextName, .header)
            title.add(" (\(model.contextID?.rawValue ?? ""))", .dim)
        } else {
            title.add("no context yet", .dim)
        }
        title.add(frame.glyphs.separator + "broker ", .dim)
        title.add(model.broker, model.connection.isInterrupted ? .error : .text)
        if let replica = model.brokerReplica { title.add(" (\(replica))", .dim) }
        var right = StyledLine()
        if model.hasContext {
            if let leaseEnds = model.limits?.leaseEnds, !model.status.terminated {
                // Machines cost money while they run: the time left before the broker stops them is always shown.
                let left = leaseEnds.timeIntervalSince(frame.now)
                right.add(" lease ", .dim)
                right.add(left > 0 ? DurationText.format(left) + " left" : "ended", left > 600 ? .header : .error)
                right.add(" ")
            }
            right.add(" elapsed ", .dim)
            right.add(DurationText.format(model.elapsed(at: frame.now)), .header)
            right.add("  ")
            let (word, style) = outcome(model)
            right.add(word + " ", style)
        }
        drawSplit(title, right, row: 0, width: width, into: &grid)

        var counts = StyledLine(" ")
        var compact = StyledLine(" ")
        for state in NodeState.allCases where model.counts[state] > 0 {
            counts.add("\(frame.glyphs.state(state)) \(model.counts[state]) \(state.rawValue)  ", .state(state))
            compact.add("\(frame.glyphs.state(state))\(model.counts[state]) ", .state(state))
        }
        if model.counts.total == 0 {
            let idle =
                !model.contextsKnown
                ? "waiting for the broker…"
                : (model.contextSummaries.isEmpty ? "no context on the broker" : "no context open: Enter opens the one selected")
            counts.add(model.hasContext ? "no nodes" : idle, .dim)
        }
        var registered = StyledLine()
        registered.add("registered ", .dim)
        registered.add("\(model.registration.registered)/\(model.registration.expected) ", .header)
        let fits = counts.width + registered.width <= width
        drawSplit(fits ? counts : compact, registered, row: 1, width: width, into: &grid)
        drawMeter(frame, row: 2, into: &grid)
    }

    /// The meter row: the nodes by state as one bar, and how many had finished over the last minutes.
    static func drawMeter(_ frame: Frame, row: Int, into grid: inout CellGrid) {
        let model = frame.model
        let width = grid.size.width
        let ascii = frame.glyphs.rule == "-"
        var left = StyledLine(" ")
        let total = model.counts.total
        let barWidth = max(10, min(48, width / 3))
        if total > 0 {
            // Each state gets its share of the bar, at least one cell when it has a node.
            var cells: [(NodeState, Int)] = []
            var used = 0
            for state in NodeState.allCases where model.counts[state] > 0 {
                let share = max(1, model.counts[state] * barWidth / total)
                cells.append((state, share))
                used += share
            }
            if let largest = cells.indices.max(by: { cells[$0].1 < cells[$1].1 }) { cells[largest].1 += barWidth - used }
            for (state, count) in cells where count > 0 {
                left.add(String(repeating: ascii ? "#" : "█", count: count), .state(state))
            }
            let done = model.counts[.ok] + model.counts.retryable
            left.add("  \(done)/\(total) finished", .dim)
        } else {
            left.add(String(repeating: ascii ? "." : "░", count: barWidth), .dim)
        }
        var right = StyledLine()
        let columns = max(0, min(StateHistory.capacity, width - left.width - 24))
        let series = model.history.series(upTo: frame.now, count: columns)
        if series.count >= 2, total > 0 {
            let finished = series.map { Double($0[.ok] + $0.retryable) }
            right.add("finished ", .dim)
            right.add(Sparkline.text(finished, maximum: Double(total), ascii: ascii), model.counts[.failed] > 0 ? .failed : .ok)
            right.add(" last \(DurationText.format(Double(series.count) * StateHistory.bucketSeconds)) ", .dim)
        }
        drawSplit(left, right, row: row, width: width, into: &grid)
    }

    /// What the context's status reads as, and its style.
    static func outcome(_ model: ConsoleModel) -> (String, StyleRole) {
        let status = model.status
        if status.terminated { return ("terminated", .killed) }
        if status.complete { return status.allOk ? ("complete, all ok", .ok) : ("complete with errors", .failed) }
        if status.errorPresent { return ("running, errors", .failed) }
        return ("running", .configuring)
    }

    /// Draws `left` and, right-aligned, `right` (dropped when both do not fit).
    static func drawSplit(_ left: StyledLine, _ right: StyledLine, row: Int, width: Int, into grid: inout CellGrid) {
        let rightWidth = right.width
        if left.width + rightWidth + 1 <= width {
            grid.draw(left, x: 0, y: row, width: width - rightWidth)
            grid.draw(right, x: width - rightWidth, y: row, width: rightWidth)
        } else {
            grid.draw(left, x: 0, y: row, width: width)
        }
    }

    static func drawBanner(_ frame: Frame, row: Int, into grid: inout CellGrid) {
        var text = " \(frame.glyphs.warning) "
        switch frame.model.connection {
        case .lost(let since, let reason):
            text += "broker connection lost \(DurationText.between(since, frame.now)) ago (\(reason))"
            text += " · showing the last known state"
        case .reconnecting(let attempt, let since, let reason):
            text += "reconnecting to the broker, attempt \(attempt) · lost \(DurationText.between(since, frame.now)) ago (\(reason))"
            text += " · showing the last known state"
        case .connecting, .connected:
            return
        }
        grid.draw(text, x: 0, y: row, style: .banner, width: grid.size.width)
    }
}

/// The view title rule: tabs for the views and what filters or follows.
enum TitleRenderer {
    static func draw(_ frame: Frame, row: Int, into grid: inout CellGrid) {
        let state = frame.state
        let rule = String(frame.glyphs.rule)
        var line = StyledLine(rule, .title)
        for (label, view) in TitleTabs.tabs {
            let active = state.view == view || (state.view == .detail && state.returnView == view)
            line.add(" \(label) ", active ? .selection : .title)
            line.add(rule, .title)
        }
        if state.view == .detail, let detail = state.detail, detail.node < frame.model.nodes.count {
            line.add(" node ", .title)
            line.add(frame.model.nodes[detail.node].name + " ", .accent)
        }
        var right = StyledLine()
        let filter = state.view == .events ? state.events.filter : (state.view == .tree || state.view == .timeline ? state.tree.filter : "")
        if !filter.isEmpty {
            right.add(" filter ", .title)
            right.add("/\(filter) ", .prompt)
        }
        if !state.marks.isEmpty && state.view != .events && state.view != .contexts {
            right.add(" \(state.marks.count) marked ", .marked)
        }
        if state.view == .events { right.add(state.events.follow ? " following " : " paused ", .title) }
        let width = grid.size.width
        let fill = max(0, width - line.width - right.width - 1)
        line.add(String(repeating: rule, count: fill), .title)
        grid.draw(line, x: 0, y: row, width: width - right.width - 1, fill: .title)
        grid.draw(right, x: width - right.width - 1, y: row, width: right.width)
        grid.draw(rule, x: width - 1, y: row, style: .title)
    }
}

/// The status line: the prompt while typing, else the last message, else key hints.
enum StatusLineRenderer {
    static func draw(_ frame: Frame, row: Int, into grid: inout CellGrid) {
        let state = frame.state
        let width = grid.size.width
        if let prompt = state.prompt {
            var line = StyledLine(prompt.leader, .prompt)
            line.add(prompt.text, .prompt)
            line.add("█", .prompt)
            grid.draw(line, x: 0, y: row, width: width)
            if !prompt.candidates.isEmpty, row > 0 {
                let list = " " + prompt.candidates.joined(separator: "  ")
                grid.draw(list, x: 0, y: row - 1, style: .dialog, width: width)
            }
            return
        }
        var right = StyledLine()
        if state.options.readOnly { right.add(" READ-ONLY ", .error) }
        let left: StyledLine
        if let status = state.status {
            let style: StyleRole = status.kind == .error ? .error : (status.kind == .success ? .success : .text)
            left = StyledLine(" " + status.text, style)
        } else {
            left = hints(for: state, width: width - right.width)
        }
        HeaderRenderer.drawSplit(left, right, row: row, width: width, into: &grid)
    }

    /// The keys that act in the view, from the one key table (``KeyMap``), as many as fit.
    static func hints(for state: ConsoleState, width: Int = .max) -> StyledLine {
        var line = StyledLine(" ")
        if state.view == .detail {
            line.add("esc", .accent)
            line.add(" back  ", .dim)
        }
        for binding in KeyMap.hints(for: state.view) {
            guard let hint = binding.hint, !(binding.isAction && state.options.readOnly) else { continue }
            let key = binding.action == .retry && !state.marks.isEmpty && state.view != .detail ? "r" : binding.shortKey
            let label = binding.action == .retry && !state.marks.isEmpty && state.view != .detail ? "retry marked" : hint
            guard line.width + TextWidth.of(key) + label.count + 3 <= width else { break }
            line.add(key, .accent)
            line.add(" \(label)  ", .dim)
        }
        return line
    }
}
