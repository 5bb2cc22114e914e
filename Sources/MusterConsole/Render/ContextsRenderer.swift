import Foundation
import MusterCore

/// The contexts view: every context on the broker, one row each, with its id, its status, its age, the time left
/// on its lease, who launches its nodes (when the broker says) and its nodes by state; the one shown is marked.
enum ContextsRenderer {
    static func draw(_ frame: Frame, rows: Range<Int>, into grid: inout CellGrid) {
        let model = frame.model
        let state = frame.state
        let width = grid.size.width
        guard let heading = rows.first else { return }
        let contexts = model.contextSummaries
        // The id is what `--context` and `:context` take: it is shown whole whenever the width allows, the name
        // gets what is left (at most 24), and the status, age and counts keep their room.
        // The lease column shows when there is room for it besides whole ids.
        let showLease = width >= 100
        // Each context says who launches its nodes; a broker that predates that is described as a whole.
        let showLauncher = width >= 110 && (model.launcher != nil || contexts.contains { $0.launcher != nil })
        let room = max(16, width - 4 - 4 - 22 - 9 - (showLease ? 9 : 0) - (showLauncher ? 11 : 0) - 16)
        let idWidth = max(8, min(room - 8, contexts.map(\.id.rawValue.count).max() ?? 0))
        let nameWidth = max(8, min(24, room - idWidth, contexts.map(\.name.count).max() ?? 0))
        var title = StyledLine("    ")
        title.add("ID".padded(toWidth: idWidth + 2) + "NAME".padded(toWidth: nameWidth + 2) + "STATUS".padded(toWidth: 22), .dim)
        title.add("AGE".padded(toWidth: 9) + (showLease ? "LEASE".padded(toWidth: 9) : ""), .dim)
        title.add((showLauncher ? "LAUNCHER".padded(toWidth: 11) : "") + "NODES", .dim)
        grid.draw(title, x: 0, y: heading, width: width)
        var cursor = state.contextsCursor
        let body = rows.dropFirst()
        cursor.scrollIntoView(count: contexts.count, height: body.count)
        for (offset, y) in body.enumerated() {
            let index = cursor.top + offset
            guard index < contexts.count else {
                grid.clear(row: y)
                continue
            }
            let summary = contexts[index]
            let shown = summary.id == model.contextID
            var line = StyledLine(shown ? "  \(frame.glyphs.rule == "-" ? ">" : "▸") " : "    ", .accent)
            line.add(summary.id.rawValue.padded(toWidth: idWidth) + "  ", .accent)
            line.add(summary.name.padded(toWidth: nameWidth) + "  ", .header)
            let (word, style) = outcome(summary.status)
            line.add(word.padded(toWidth: 22), style)
            line.add(DurationText.between(summary.createdAt, frame.now).padded(toWidth: 9), .dim)
            if showLease { line.add(lease(summary, now: frame.now).padded(toWidth: 9), .dim) }
            if showLauncher { line.add((summary.launcher ?? model.launcher?.rawValue ?? "—").padded(toWidth: 11), .dim) }
            let counts = StateCounts(summary.status.counts)
            line.add(counts.summary, TreeRenderer.summaryStyle(counts))
            if index == cursor.selected { line = StyledLine(line.text, .selection) }
            grid.draw(line, x: 0, y: y, width: width, fill: index == cursor.selected ? .selection : .text)
        }
        if contexts.isEmpty, body.count > 2, let first = body.first {
            let text =
                model.contextsKnown
                ? "  the broker has no context yet: press l (or :launch FILE) to launch one" : "  asking the broker for its contexts…"
            grid.draw(text, x: 0, y: first + 1, style: .dim)
        }
    }

    /// The time left on a context's lease: `—` without one, `ended` once it has (or the context ended).
    static func lease(_ summary: ContextSummary, now: Date) -> String {
        guard let ends = summary.limits?.leaseEnds else { return "—" }
        let left = ends.timeIntervalSince(now)
        return left > 0 && !summary.status.terminated ? DurationText.format(left) : "ended"
    }

    /// What a context's status reads as, and its style.
    static func outcome(_ status: ContextStatus) -> (String, StyleRole) {
        if status.terminated { return ("terminated", .killed) }
        if status.complete { return status.allOk ? ("complete, all ok", .ok) : ("complete with errors", .failed) }
        if status.errorPresent { return ("running, errors", .failed) }
        return ("running", .configuring)
    }
}
