import Foundation

extension ContextPlan {
    /// The plan as text for a terminal: one block per workspace, one line per node saying what it waits on.
    public func rendered(title: String) -> String {
        let roleCount = Set(workspaces.flatMap(\.roles)).count
        var lines = [
            "\(title): \(workspaces.count) workspace\(workspaces.count == 1 ? "" : "s"), \(nodeCount) node\(nodeCount == 1 ? "" : "s"), "
                + "\(roleCount) role\(roleCount == 1 ? "" : "s")"
        ]
        let width = min(40, workspaces.flatMap(\.nodes).map(\.name.count).max() ?? 0)
        for workspace in workspaces {
            lines.append("")
            let nics = workspace.nics.map { $0.label + ($0.wantLogin ? " (login)" : "") }.joined(separator: ", ")
            lines.append(
                "\(workspace.name)  image \(workspace.image), \(workspace.nodes.count) node\(workspace.nodes.count == 1 ? "" : "s"), nic \(nics)"
            )
            var provides: [String] = workspace.sharesIdentity ? ["identity"] : []
            provides += workspace.roles.map { "role \($0)" }
            lines.append("  provides: \(provides.isEmpty ? "nothing" : provides.joined(separator: ", "))")
            if !workspace.data.isEmpty {
                lines.append("  data: \(workspace.data.joined(separator: ", "))")
            }
            // Nodes of a workspace wait on the same things; print the first few and summarize the rest.
            let shown = workspace.nodes.count > 6 ? Array(workspace.nodes.prefix(3)) + [workspace.nodes.last!] : workspace.nodes
            for (offset, node) in shown.enumerated() {
                if workspace.nodes.count > 6 && offset == 3 {
                    lines.append("  … \(workspace.nodes.count - 4) more like these")
                }
                let name = node.name.padding(toLength: max(width, node.name.count), withPad: " ", startingAt: 0)
                lines.append("  \(name)  \(Self.describe(node))")
            }
        }
        return lines.joined(separator: "\n")
    }

    private static func describe(_ node: Node) -> String {
        guard !node.waitsOn.isEmpty else { return "released as soon as it checks in" }
        let parts = node.waitsOn.map { wait -> String in
            let who = wait.nodes.count <= 3 ? wait.nodes.joined(separator: ", ") : "\(wait.nodes.count) nodes"
            let condition = wait.wait == .ready ? "ready" : "registered"
            if let role = wait.role {
                return "\(role) \(condition) (\(who))"
            }
            return "every identity (\(wait.nodes.count) node\(wait.nodes.count == 1 ? "" : "s"))"
        }
        let stage = node.stage > 0 ? "  [stage \(node.stage)]" : ""
        return "waits on " + parts.joined(separator: "; ") + stage
    }
}
