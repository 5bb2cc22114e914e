/// The checks that need the whole document: names unique, every required role provided, no readiness cycle.
struct ClusterValidator {
    /// More nodes than this in one context is refused: no launcher or broker here is meant for it.
    static let maximumNodes = 100_000

    static func validate(_ document: ClusterDocument, map: ClusterSourceMap) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var firstByName: [String: Int] = [:]
        for (index, workspace) in document.workspaces.enumerated() {
            if let first = firstByName[workspace.name] {
                diagnostics.append(
                    Diagnostic(
                        .error,
                        code: "duplicate-workspace",
                        "workspace name '\(workspace.name)' is used twice; node names must be unique",
                        at: map.position(map.workspaces[index].name)
                    )
                )
                diagnostics.append(
                    Diagnostic(
                        .note,
                        code: "duplicate-workspace",
                        "'\(workspace.name)' is first defined here",
                        at: map.position(map.workspaces[first].name)
                    )
                )
            } else {
                firstByName[workspace.name] = index
            }
            if workspace.name.contains("/") || workspace.name.contains(where: \.isWhitespace) {
                diagnostics.append(
                    Diagnostic(
                        .error,
                        code: "invalid-name",
                        "workspace name '\(workspace.name)' cannot contain '/' or spaces; it names nodes, folders and hosts",
                        at: map.position(map.workspaces[index].name)
                    )
                )
            }
        }

        var provided: Set<String> = []
        for workspace in document.workspaces {
            for role in workspace.provides.roles { provided.insert(role.name) }
        }
        for (index, workspace) in document.workspaces.enumerated() {
            for (roleIndex, role) in workspace.requires.roles.enumerated() where !provided.contains(role.name) {
                let suggestion =
                    closest(to: role.name, in: provided).map { "; did you mean '\($0)'?" }
                    ?? "; add <role>\(role.name)</role> to the <provides> of the workspace that plays it"
                diagnostics.append(
                    Diagnostic(
                        .error,
                        code: "unknown-role",
                        "workspace '\(workspace.name)' requires role '\(role.name)', which no workspace provides\(suggestion)",
                        at: map.position(map.workspaces[index].requiredRoles[roleIndex])
                    )
                )
            }
        }

        for cycle in ReadyWaitCycles.find(in: document) {
            let names = cycle.members.map { document.workspaces[$0.workspace].name }
            let steps = cycle.members.enumerated().map { offset, member in
                let next = names[(offset + 1) % names.count]
                return "'\(names[offset])' waits for '\(next)' (role '\(member.role)') to be ready"
            }
            let first = cycle.members[0]
            let roleIndex = document.workspaces[first.workspace].requires.roles.firstIndex { $0.name == first.role && $0.wait == .ready } ?? 0
            let where_ =
                map.workspaces[first.workspace].requiredRoles.indices.contains(roleIndex)
                ? map.workspaces[first.workspace].requiredRoles[roleIndex] : map.workspaces[first.workspace].element
            let members =
                names.count == 1
                ? "'\(names[0])' waits for itself" : "cycle: " + names.map { "'\($0)'" }.joined(separator: " → ") + " → '\(names[0])'"
            diagnostics.append(
                Diagnostic(
                    .error,
                    code: "ready-wait-cycle",
                    "readiness waits form a deadlock (\(members)): \(steps.joined(separator: ", ")); "
                        + "none of them can ever start. Drop muster:wait=\"ready\" from one of these roles",
                    at: map.position(where_)
                )
            )
        }

        let total = document.workspaces.reduce(0) { $0 + $1.quantity }
        if total > maximumNodes {
            diagnostics.append(
                Diagnostic(
                    .error,
                    code: "too-many-nodes",
                    "the cluster starts \(total) nodes; at most \(maximumNodes) are allowed",
                    at: map.position(map.root)
                )
            )
        }
        return diagnostics
    }

    /// The provided role most like `name`, if one is a likely typo of it.
    private static func closest(to name: String, in candidates: Set<String>) -> String? {
        let scored = candidates.map { ($0, editDistance(Array(name.lowercased()), Array($0.lowercased()))) }
        guard let best = scored.min(by: { ($0.1, $0.0) < ($1.1, $1.0) }) else { return nil }
        return best.1 <= max(1, name.count / 4) ? best.0 : nil
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in 1...b.count {
                let saved = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = saved
            }
        }
        return row[b.count]
    }
}
