/// What launching a cluster document would do: each workspace and node, what it provides, and what each node
/// waits on before it can be released. `muster plan` prints it.
public struct ContextPlan: Sendable, Hashable, Codable {
    /// One workspace of the plan.
    public struct Workspace: Sendable, Hashable, Codable {
        /// The workspace name.
        public var name: String
        /// Its image.
        public var image: String
        /// Its NIC labels, with `wantLogin` marked.
        public var nics: [NICSpec]
        /// Whether its nodes share their identity.
        public var sharesIdentity: Bool
        /// The roles it provides.
        public var roles: [String]
        /// The names of its data values (never the values).
        public var data: [String]
        /// Its nodes.
        public var nodes: [Node]
    }

    /// One node of the plan.
    public struct Node: Sendable, Hashable, Codable {
        /// The node name.
        public var name: String
        /// What it waits on before it is released; empty when it is released as soon as it checks in.
        public var waitsOn: [Wait]
        /// The readiness stage: 0 when no readiness wait holds it, otherwise one more than the latest stage of
        /// the providers it waits to be ready.
        public var stage: Int
    }

    /// One thing a node waits on.
    public struct Wait: Sendable, Hashable, Codable {
        /// The role, or `nil` for every node's identity.
        public var role: String?
        /// Registration or readiness.
        public var wait: WaitCondition
        /// The nodes that must be present.
        public var nodes: [String]
    }

    /// The workspaces in document order.
    public var workspaces: [Workspace]

    /// The total number of nodes.
    public var nodeCount: Int { workspaces.reduce(0) { $0 + $1.nodes.count } }

    /// Plans a valid document.
    public init(_ document: ClusterDocument) {
        var providers: [String: [String]] = [:]
        var providerWorkspaces: [String: [Int]] = [:]
        let allNodes = document.workspaces.flatMap { workspace in (0..<workspace.quantity).map(workspace.nodeName) }
        for (index, workspace) in document.workspaces.enumerated() {
            var seen: Set<String> = []
            for role in workspace.provides.roles where seen.insert(role.name).inserted {
                providers[role.name, default: []] += (0..<workspace.quantity).map(workspace.nodeName)
                providerWorkspaces[role.name, default: []].append(index)
            }
        }
        let stages = Self.stages(document, providerWorkspaces: providerWorkspaces)
        workspaces = document.workspaces.enumerated().map { index, workspace in
            var waits: [Wait] = []
            if workspace.requires.allIdentities {
                waits.append(Wait(role: nil, wait: .registered, nodes: allNodes))
            }
            var seen: Set<String> = []
            for role in workspace.requires.roles where seen.insert(role.name).inserted {
                waits.append(Wait(role: role.name, wait: role.wait, nodes: providers[role.name] ?? []))
            }
            return Workspace(
                name: workspace.name,
                image: workspace.image,
                nics: workspace.nics,
                sharesIdentity: workspace.provides.sharesIdentity,
                roles: workspace.provides.roles.map(\.name),
                data: workspace.requires.data.map(\.name),
                nodes: (0..<workspace.quantity).map { Node(name: workspace.nodeName($0), waitsOn: waits, stage: stages[index]) }
            )
        }
    }

    /// Readiness stages by workspace (documents with readiness cycles are rejected before planning).
    private static func stages(_ document: ClusterDocument, providerWorkspaces: [String: [Int]]) -> [Int] {
        var stages = [Int?](repeating: nil, count: document.workspaces.count)
        func stage(_ index: Int, visiting: inout Set<Int>) -> Int {
            if let known = stages[index] { return known }
            guard visiting.insert(index).inserted else { return 0 }
            var result = 0
            for role in document.workspaces[index].requires.roles where role.wait == .ready {
                for provider in providerWorkspaces[role.name] ?? [] {
                    result = max(result, stage(provider, visiting: &visiting) + 1)
                }
            }
            stages[index] = result
            return result
        }
        var visiting: Set<Int> = []
        return document.workspaces.indices.map { stage($0, visiting: &visiting) }
    }
}
