import Foundation
import MusterCore

extension ConsoleState {
    // MARK: Detail

    mutating func performInDetail(_ action: KeyAction, _ model: ConsoleModel) -> [ConsoleEffect] {
        guard var detail, detail.node < model.nodes.count else { return [] }
        let pane = outputPane(detail, model)
        let height = outputHeight(detail.node, model)
        let currentTop = detail.follow ? pane.followTop(height: height) : detail.top
        func scroll(_ delta: Int) {
            let bottom = pane.followTop(height: height)
            let target = max(pane.first, min(currentTop + delta, bottom))
            detail.follow = target >= bottom && delta > 0
            detail.top = target
        }
        let node = model.nodes[detail.node]
        switch action {
        case .moveDown: scroll(1)
        case .moveUp: scroll(-1)
        case .pageDown: scroll(max(1, height - 1))
        case .pageUp: scroll(-max(1, height - 1))
        case .top:
            detail.follow = false
            detail.top = pane.first
        case .bottom:
            detail.follow = true
        case .follow:
            detail.follow.toggle()
            detail.top = currentTop
            status = StatusMessage(detail.follow ? "following new output" : "follow off")
        case .wrap:
            detail.wrap.toggle()
            status = StatusMessage(detail.wrap ? "wrapping long lines" : "wrap off")
        case .nextMatch, .previousMatch:
            self.detail = detail
            findMatch(forward: action == .nextMatch, model)
            return []
        case .earlierAttempt, .laterAttempt:
            let shown = detail.shownAttempt(latest: node.generation)
            let wanted = action == .earlierAttempt ? shown - 1 : shown + 1
            guard wanted >= 0, wanted <= node.generation else {
                status = StatusMessage(
                    node.generation == 0
                        ? "\(node.name) has had one attempt" : (wanted < 0 ? "this is the first attempt" : "this is the latest attempt"),
                    .error
                )
                break
            }
            detail.attempt = wanted == node.generation ? nil : wanted
            detail.follow = true
            detail.top = 0
            detail.match = nil
            status = StatusMessage("attempt \(wanted + 1) of \(node.generation + 1)\(wanted == node.generation ? " (the latest)" : "")")
        case .message:
            guard let message = node.message, !message.isEmpty else {
                status = StatusMessage("\(node.name) has no message", .error)
                break
            }
            var title = "\(node.name) \(node.state.rawValue)"
            if let code = node.exitCode { title += " (exit \(code))" }
            overlay = .message(MessageBox(title: title, text: message, scroll: 0))
        case .saveOutput:
            return [.saveOutput(node: node.name, path: "\(node.name).log")]
        default:
            break
        }
        self.detail = detail
        return []
    }

    /// The output pane of the open node at the current screen size: the lines of the attempt shown, once the
    /// console holds them.
    func outputPane(_ detail: DetailViewState, _ model: ConsoleModel) -> OutputPane {
        let attempt = detail.shownAttempt(latest: model.nodes[detail.node].generation)
        let lines = model.outputAttempt(of: detail.node) == attempt ? model.output(of: detail.node) : RingBuffer(capacity: 1)
        return OutputPane(lines: lines, width: screen.width - OutputPane.gutterWidth, wrap: detail.wrap)
    }

    /// The rows of the output pane for a node.
    func outputHeight(_ node: Int, _ model: ConsoleModel) -> Int {
        DetailLayout(model: model, node: node, body: layout(model).body, options: options).output.count
    }

    /// The output line at the top of the pane, or the last one while following.
    func currentOutputLine(_ detail: DetailViewState, _ model: ConsoleModel) -> OutputLine? {
        let pane = outputPane(detail, model)
        guard pane.end > pane.first else { return nil }
        let position = detail.match ?? (detail.follow ? pane.end - 1 : detail.top)
        return pane.lines.element(atAbsolute: max(pane.first, min(position, pane.end - 1)))
    }

    mutating func findMatch(forward: Bool, _ model: ConsoleModel) {
        guard var detail, let query = detail.search, !query.isEmpty else {
            status = StatusMessage("no search yet: type / and a word", .error)
            return
        }
        let pane = outputPane(detail, model)
        guard pane.end > pane.first else {
            status = StatusMessage("no output to search", .error)
            return
        }
        let count = pane.end - pane.first
        let height = outputHeight(detail.node, model)
        let start = detail.match ?? (forward ? (detail.follow ? pane.followTop(height: height) : detail.top) - 1 : pane.end)
        for step in 1...count {
            let offset = forward ? start + step : start - step
            let position = pane.first + ((offset - pane.first) % count + count) % count
            guard let line = pane.lines.element(atAbsolute: position), line.text.range(of: query, options: .caseInsensitive) != nil else {
                continue
            }
            detail.match = position
            detail.follow = false
            detail.top = max(pane.first, min(position - height / 3, pane.followTop(height: height)))
            status = StatusMessage("/\(query): line \(position + 1)")
            self.detail = detail
            return
        }
        detail.match = nil
        self.detail = detail
        status = StatusMessage("no match for '\(query)'", .error)
    }
}
