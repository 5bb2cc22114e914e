/// Boxes drawn over the view: the key help and confirmations.
enum OverlayRenderer {
    /// The help text: every binding of ``KeyMap`` by scope, then the commands.
    static func helpLines(readOnly: Bool, user: [UserCommand] = []) -> [StyledLine] {
        var lines: [StyledLine] = []
        let all = KeyMap.bindings + KeyMap.userBindings(user)
        for scope in KeyScope.allCases {
            let bindings = all.filter { $0.scope == scope }
            guard !bindings.isEmpty else { continue }
            if !lines.isEmpty { lines.append(StyledLine()) }
            lines.append(StyledLine(scope.title, .accent))
            for binding in bindings {
                var line = StyledLine("  " + binding.keyLabel.padded(toWidth: 14), .header)
                line.add(binding.summary, binding.isAction && readOnly ? .dim : .dialog)
                if binding.isAction && readOnly { line.add(" (read-only)", .dim) }
                lines.append(line)
            }
        }
        lines.append(StyledLine())
        lines.append(StyledLine("Mouse", .accent))
        for (what, summary) in ConsoleState.mouseHelp {
            var line = StyledLine("  " + what.padded(toWidth: 14), .header)
            line.add(summary, .dialog)
            lines.append(line)
        }
        lines.append(StyledLine())
        lines.append(StyledLine("Commands (Tab completes files and names; ↑/↓ history)", .accent))
        for (_, usage) in ConsoleCommand.catalog where !usage.isEmpty {
            lines.append(StyledLine("  " + usage, .dialog))
        }
        return lines
    }

    static func drawHelp(_ frame: Frame, scroll: Int, into grid: inout CellGrid) {
        let lines = helpLines(readOnly: frame.state.options.readOnly, user: frame.state.options.userCommands)
        let width = min(grid.size.width - 2, 84)
        let height = min(grid.size.height - 2, lines.count + 2)
        let inner = height - 2
        let top = max(0, min(scroll, lines.count - inner))
        let more = top + inner < lines.count ? " j/k scroll " : ""
        let box = Box(width: width, height: height, in: grid.size)
        box.drawFrame(title: " Keys ", footer: " ? or Esc closes\(more.isEmpty ? "" : " ·" + more)", glyphs: frame.glyphs, into: &grid)
        for row in 0..<inner {
            let index = top + row
            let line = index < lines.count ? lines[index] : StyledLine()
            var padded = StyledLine(" ", .dialog)
            for span in line.spans { padded.add(span.text, span.style) }
            grid.draw(padded, x: box.x + 1, y: box.y + 1 + row, width: width - 2, fill: .dialog)
        }
    }

    static func drawConfirm(_ dialog: ConfirmDialog, _ frame: Frame, into grid: inout CellGrid) {
        let width = min(grid.size.width - 4, max(44, min(90, TextWidth.of(dialog.detail) + 6), TextWidth.of(dialog.question) + 6))
        let details = MessageText.wrapped(dialog.detail, width: width - 6)
        let shown = Array(details.prefix(max(1, grid.size.height - 8)))
        let box = Box(width: width, height: 5 + shown.count, in: grid.size)
        box.drawFrame(title: " Confirm ", footer: "", glyphs: frame.glyphs, into: &grid)
        var rows: [StyledLine] = [StyledLine("  " + dialog.question, .header)]
        for (offset, line) in shown.enumerated() {
            rows.append(StyledLine("  " + line + (offset == shown.count - 1 && shown.count < details.count ? " …" : ""), .dialog))
        }
        rows.append(StyledLine())
        for (offset, line) in rows.enumerated() {
            var padded = StyledLine()
            for span in line.spans { padded.add(span.text, span.style) }
            grid.draw(padded, x: box.x + 1, y: box.y + 1 + offset, width: width - 2, fill: .dialog)
        }
        var answer = StyledLine("  ", .dialog)
        answer.add("y", .accent)
        answer.add(" yes    ", .dialog)
        answer.add("N", .accent)
        answer.add(" no (any other key)", .dialog)
        grid.draw(answer, x: box.x + 1, y: box.y + box.height - 2, width: width - 2, fill: .dialog)
    }

    /// A long message in a box, wrapped to it and scrolled with j/k.
    static func drawMessage(_ message: MessageBox, _ frame: Frame, into grid: inout CellGrid) {
        let width = min(grid.size.width - 2, 100)
        let lines = MessageText.wrapped(message.text, width: width - 4)
        let height = min(grid.size.height - 2, lines.count + 2)
        let inner = height - 2
        let top = max(0, min(message.scroll, lines.count - inner))
        let more = top + inner < lines.count || top > 0 ? " j/k scroll ·" : ""
        let box = Box(width: width, height: height, in: grid.size)
        box.drawFrame(title: " \(message.title) ", footer: "\(more) any other key closes ", glyphs: frame.glyphs, into: &grid)
        for row in 0..<inner {
            let index = top + row
            let text = index < lines.count ? lines[index] : ""
            grid.draw(StyledLine(" " + text, .dialog), x: box.x + 1, y: box.y + 1 + row, width: width - 2, fill: .dialog)
        }
    }

    /// A centred box.
    struct Box {
        var x: Int
        var y: Int
        var width: Int
        var height: Int

        init(width: Int, height: Int, in size: ScreenSize) {
            self.width = max(4, width)
            self.height = max(3, height)
            x = max(0, (size.width - self.width) / 2)
            y = max(0, (size.height - self.height) / 2)
        }

        func drawFrame(title: String, footer: String, glyphs: Glyphs, into grid: inout CellGrid) {
            let ascii = glyphs.rule == "-"
            let (topLeft, topRight, bottomLeft, bottomRight, horizontal, vertical) =
                ascii ? ("+", "+", "+", "+", "-", "|") : ("┌", "┐", "└", "┘", "─", "│")
            let top = topLeft + title + String(repeating: horizontal, count: max(0, width - 2 - TextWidth.of(title))) + topRight
            grid.draw(top, x: x, y: y, style: .dialog, limit: width)
            for row in 1..<(height - 1) {
                grid.draw(vertical, x: x, y: y + row, style: .dialog)
                grid.draw(vertical, x: x + width - 1, y: y + row, style: .dialog)
            }
            let bottom =
                bottomLeft + String(repeating: horizontal, count: max(0, width - 2 - TextWidth.of(footer))) + footer + bottomRight
            grid.draw(bottom, x: x, y: y + height - 1, style: .dialog, limit: width)
        }
    }
}
