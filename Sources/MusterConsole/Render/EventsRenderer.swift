import Foundation

/// The event log, newest at the bottom, filtered by the events view's filter.
enum EventsRenderer {
    static func draw(_ frame: Frame, rows: Range<Int>, into grid: inout CellGrid) {
        let model = frame.model
        let state = frame.state
        let log = model.eventLog
        let width = grid.size.width
        let count = state.events.count(log)
        var cursor = state.events.cursor
        cursor.scrollIntoView(count: count, height: rows.count)
        for (offset, y) in rows.enumerated() {
            let index = cursor.top + offset
            guard index < count, let entry = state.events.entry(at: index, log) else {
                grid.clear(row: y)
                continue
            }
            var line = StyledLine(" " + DurationText.clock(entry.time, in: state.options.timeZone), .dim)
            line.add("  " + (entry.sequence.map { "#\($0)" } ?? "").padded(toWidth: 7), .dim)
            if width >= 100 { line.add(" " + entry.kind.padded(toWidth: 22), .dim) }
            line.add(" ")
            line.add(entry.text, style(entry.severity))
            if index == cursor.selected && !state.events.follow { line = StyledLine(line.text, .selection) }
            let selected = index == cursor.selected && !state.events.follow
            grid.draw(line, x: 0, y: y, width: width, fill: selected ? .selection : .text)
        }
        if count == 0, rows.count > 2, let first = rows.first {
            grid.draw(state.events.filter.isEmpty ? "  no events yet" : "  no event matches the filter", x: 0, y: first + 1, style: .dim)
        }
    }

    static func style(_ severity: EventLogEntry.Severity) -> StyleRole {
        switch severity {
        case .info: .text
        case .success: .ok
        case .warning: .killed
        case .error: .failed
        }
    }
}
