/// The checks that need the whole document: names unique, every required role provided, no readiness cycle.
///
/// Each check is linear in the document (plus a bounded amount of work for "did you mean" suggestions), so a
/// document of any shape validates in time proportional to its size.
struct ClusterValidator {
    /// More nodes than this in one context is refused: no launcher or broker here is meant for it.
    static let maximumNodes = 100_000

    /// How many edit-distance cells "did you mean" suggestions may cost per document; past it, unknown roles
    /// are reported without a suggestion.
    static let suggestionBudget = 2_000_000

    static func validate(_ document: ClusterDocument, map: ClusterSourceMap, into diagnostics: inout DiagnosticCollector) {
        var firstByName: [String: Int] = [:]
        for (index, workspace) in document.workspaces.enumerated() {
            if let first = firstByName[workspace.name] {
                diagnostics.add(
                    .error,
                    code: "duplicate-workspace",
                    at: map.workspaces[index].name,
                    notes: [("'\(workspace.name)' is first defined here", map.workspaces[first].name)],
                    "workspace name '\(workspace.name)' is used twice; node names must be unique"
                )
            } else {
                firstByName[workspace.name] = index
            }
        }

        var provided: Set<String> = []
        for workspace in document.workspaces {
            for role in workspace.provides.roles { provided.insert(role.name) }
        }
        var budget = suggestionBudget
        var sortedProvided: [String]?
        for (index, workspace) in document.workspaces.enumerated() {
            for (roleIndex, role) in workspace.requires.roles.enumerated() where !provided.contains(role.name) {
                diagnostics.add(
                    .error,
                    code: "unknown-role",
                    at: map.workspaces[index].requiredRoles[roleIndex],
                    {
                        if sortedProvided == nil { sortedProvided = provided.sorted() }
                        let suggestion =
                            closest(to: role.name, in: sortedProvided!, budget: &budget).map { "; did you mean '\($0)'?" }
                            ?? "; add <role>\(role.name)</role> to the <provides> of the workspace that plays it"
                        return "workspace '\(workspace.name)' requires role '\(role.name)', which no workspace provides\(suggestion)"
                    }()
                )
            }
        }

        for cycle in ReadyWaitCycles.find(in: document) {
            let first = cycle.members[0]
            let roleIndex = document.workspaces[first.workspace].requires.roles.firstIndex { $0.name == first.role && $0.wait == .ready } ?? 0
            let where_ =
                map.workspaces[first.workspace].requiredRoles.indices.contains(roleIndex)
                ? map.workspaces[first.workspace].requiredRoles[roleIndex] : map.workspaces[first.workspace].element
            diagnostics.add(.error, code: "ready-wait-cycle", at: where_, cycleMessage(cycle, in: document))
        }

        let total = document.workspaces.reduce(0) { $0 + $1.quantity }
        if total > maximumNodes {
            diagnostics.add(.error, code: "too-many-nodes", at: map.root, "the cluster starts \(total) nodes; at most \(maximumNodes) are allowed")
        }
    }

    private static func cycleMessage(_ cycle: ReadyWaitCycles.Cycle, in document: ClusterDocument) -> String {
        let names = cycle.members.map { document.workspaces[$0.workspace].name }
        let steps = cycle.members.enumerated().map { offset, member in
            let next = names[(offset + 1) % names.count]
            return "'\(names[offset])' waits for '\(next)' (role '\(member.role)') to be ready"
        }
        let members =
            names.count == 1
            ? "'\(names[0])' waits for itself" : "cycle: " + names.map { "'\($0)'" }.joined(separator: " → ") + " → '\(names[0])'"
        return "readiness waits form a deadlock (\(members)): \(steps.joined(separator: ", ")); "
            + "none of them can ever start. Drop muster:wait=\"ready\" from one of these roles"
    }

    /// The provided role most like `name`, if one is a likely typo of it (at most a quarter of its letters
    /// differ), spending at most `budget` edit-distance cells.
    static func closest(to name: String, in candidates: [String], budget: inout Int) -> String? {
        let target = Array(name.lowercased().utf8)
        let limit = max(1, name.count / 4)
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let other = Array(candidate.lowercased().utf8)
            guard abs(other.count - target.count) <= limit else { continue }
            let cost = (target.count + 1) * (other.count + 1)
            guard budget >= cost else { return best?.name }
            budget -= cost
            let distance = editDistance(target, other)
            if distance <= limit, distance < best?.distance ?? Int.max { best = (candidate, distance) }
        }
        return best?.name
    }

    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
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
