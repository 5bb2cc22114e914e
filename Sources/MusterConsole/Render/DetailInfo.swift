import Foundation
import MusterCore

/// The information block of a node's detail view: summary, identity, requirements, timeline.
///
/// Built from one node only, so its cost does not depend on the size of the context.
enum DetailInfo {
    /// The label column width.
    static let labelWidth = 11

    static func lines(model: ConsoleModel, node index: Int, now: Date, options: ConsoleOptions, maximum: Int) -> [StyledLine] {
        let node = model.nodes[index]
        let workspace = model.workspaces[node.workspace]
        let glyphs = options.glyphs
        var fixed: [StyledLine] = []

        var summary = StyledLine()
        summary.add("\(glyphs.state(node.state)) ", .state(node.state))
        summary.add(node.name, .accent)
        summary.add("  \(node.state.rawValue) \(DurationText.between(node.since, now))", .state(node.state))
        summary.add("\(glyphs.separator)workspace \(workspace.name) slot \(node.slot)", .dim)
        if node.generation > 0 { summary.add("\(glyphs.separator)attempt \(node.generation + 1)", .dim) }
        if !workspace.image.isEmpty { summary.add("\(glyphs.separator)image \(workspace.image)", .dim) }
        fixed.append(summary)

        if node.exitCode != nil || node.message != nil {
            var problem = label("reason")
            if let code = node.exitCode { problem.add("exit \(code)  ", .state(node.state)) }
            let lines = MessageText.lines(of: node.message ?? "")
            problem.add(lines.first ?? "", .state(node.state))
            fixed.append(problem)
            // The rest of the message, a few lines of it; `m` shows all of it, wrapped.
            let room = max(0, min(3, maximum / 3))
            for line in lines.dropFirst().prefix(room) {
                var more = label("")
                more.add(line, .state(node.state))
                fixed.append(more)
            }
            if lines.count > room + 1 || (lines.first.map { TextWidth.of($0) > 100 } ?? false) {
                var hint = label("")
                hint.add("… m shows the whole message (\(Plural.count(lines.count, "line")))", .dim)
                fixed.append(hint)
            }
        }

        if node.identities.isEmpty {
            var line = label("identity")
            line.add("not checked in yet", .dim)
            fixed.append(line)
        }
        for (offset, identity) in node.identities.enumerated() {
            var line = offset == 0 ? label("identity") : label("")
            line.add(identity.interface + "  ", .dim)
            line.add(identity.ip, .accent)
            line.add("  " + identity.hostname)
            line.add("  " + shortKey(identity.pubkey), .dim)
            fixed.append(line)
        }

        if let machine = node.machine {
            var line = label("machine")
            line.add(machine.instanceID, .accent)
            line.add("  " + machine.state, machine.state == "running" ? .text : .dim)
            for part in [machine.instanceType, machine.zone].compactMap({ $0 }) { line.add("  " + part, .dim) }
            if let address = machine.publicIP { line.add("  public " + address) }
            if let address = machine.privateIP { line.add("  private " + address, .dim) }
            fixed.append(line)
        }

        var provides = label("provides")
        let roles = workspace.roles.isEmpty ? "no role" : workspace.roles.joined(separator: ", ")
        provides.add(roles)
        if !workspace.dataNames.isEmpty {
            provides.add("   data ", .dim)
            provides.add(workspace.dataNames.map { "\($0)=••••••" }.joined(separator: ", "), .dim)
        }
        fixed.append(provides)

        let requirements = model.requirements(of: index)
        if requirements.isEmpty {
            var line = label("requires")
            line.add("nothing", .dim)
            fixed.append(line)
        }
        for (offset, requirement) in requirements.enumerated() {
            var line = offset == 0 ? label("requires") : label("")
            let met = requirement.isMet
            line.add("\(met ? glyphs.met : glyphs.state(.waiting)) ", met ? .ok : .waiting)
            line.add(RequirementLabel.display(requirement.label), .accent)
            line.add("  \(requirement.filled)/\(requirement.expected) \(requirement.wait.rawValue)")
            if let since = requirement.metSince {
                line.add("  met \(DurationText.between(since, now)) ago", .dim)
            } else if !requirement.missing.isEmpty {
                let more = requirement.expected - requirement.filled - requirement.missing.count
                line.add("  missing: " + requirement.missing.joined(separator: ", ") + (more > 0 ? " +\(more)" : ""), .waiting)
            }
            fixed.append(line)
        }

        var timeline: [StyledLine] = []
        if node.timeline.isEmpty {
            var line = label("timeline")
            line.add(node.state == .configuring ? "no script started yet" : "no scripts run", .dim)
            timeline.append(line)
        }
        for (offset, run) in node.timeline.enumerated() {
            var line = offset == 0 ? label("timeline") : label("")
            line.add("\(run.script.phase) ", .dim)
            line.add(run.script.script.padded(toWidth: 28))
            if let finished = run.finished {
                line.add(" " + DurationText.precise(finished.timeIntervalSince(run.started)).padded(toWidth: 6), .dim)
                let code = run.exitCode ?? 0
                line.add(" exit \(code)", code == 0 ? .ok : .failed)
            } else {
                line.add(" " + DurationText.between(run.started, now).padded(toWidth: 6), .dim)
                line.add(" running", .configuring)
            }
            if !run.script.arguments.isEmpty { line.add("  " + run.script.arguments.joined(separator: " "), .dim) }
            timeline.append(line)
        }
        let room = max(1, maximum - fixed.count)
        if timeline.count > room {
            let kept = max(0, room - 1)
            var earlier = label("timeline")
            earlier.add("… \(timeline.count - kept) earlier script\(timeline.count - kept == 1 ? "" : "s")", .dim)
            timeline = [earlier] + timeline.suffix(kept).map { relabel($0) }
        }
        return Array((fixed + timeline).prefix(maximum))
    }

    private static func label(_ text: String) -> StyledLine {
        StyledLine(" " + text.padded(toWidth: labelWidth - 1), .dim)
    }

    private static func relabel(_ line: StyledLine) -> StyledLine {
        var copy = label("")
        for span in line.spans.dropFirst() { copy.add(span.text, span.style) }
        return copy
    }

    /// `ssh-ed25519 AAAAC3Nz…h7Qk`: the key type and the ends of the key, enough to tell keys apart by eye.
    static func shortKey(_ pubkey: String) -> String {
        let parts = pubkey.split(separator: " ")
        guard parts.count >= 2 else { return pubkey.truncated(toWidth: 24) }
        let blob = parts[1]
        let shown = blob.count > 20 ? "\(blob.prefix(8))…\(blob.suffix(8))" : String(blob)
        return "\(parts[0]) \(shown)"
    }
}

/// Where the parts of the detail view go in the body: the information block, the output title, the output.
public struct DetailLayout: Sendable, Hashable {
    /// The information lines shown.
    public var info: [StyledLine]
    /// The information rows.
    public var infoRows: Range<Int>
    /// The output title row.
    public var outputTitle: Int
    /// The output rows.
    public var output: Range<Int>

    /// Lays out the detail of node `node` in `body`.
    public init(model: ConsoleModel, node: Int, body: Range<Int>, options: ConsoleOptions, now: Date = Date(timeIntervalSince1970: 0)) {
        let maximum = max(3, body.count * 2 / 5)
        info = DetailInfo.lines(model: model, node: node, now: now, options: options, maximum: maximum)
        infoRows = body.lowerBound..<min(body.upperBound, body.lowerBound + info.count)
        outputTitle = min(infoRows.upperBound, max(body.lowerBound, body.upperBound - 1))
        output = min(body.upperBound, outputTitle + 1)..<body.upperBound
    }
}
