/// Finds cycles of readiness waits (`muster:wait="ready"`) between workspaces.
///
/// Waiting for a provider to *register* can never deadlock: every node registers as soon as it boots. Waiting
/// for a provider to be *ready* can: if A waits for B to finish its scripts and B waits for A, neither ever
/// starts. This is the only way a cluster document can deadlock, so it is the only cycle validation looks for.
enum ReadyWaitCycles {
    /// One cycle: the workspaces in it, in wait order, each with the role it waits on for the next.
    struct Cycle: Equatable {
        /// `(workspace index, role it waits on from the next member)`, first member has the lowest index.
        var members: [(workspace: Int, role: String)]

        static func == (lhs: Cycle, rhs: Cycle) -> Bool {
            lhs.members.map(\.workspace) == rhs.members.map(\.workspace) && lhs.members.map(\.role) == rhs.members.map(\.role)
        }
    }

    /// Every elementary cycle's strongly connected component, reported once as one representative cycle.
    static func find(in document: ClusterDocument) -> [Cycle] {
        // Most documents wait for registration only: no readiness edge, no cycle, nothing to build.
        guard document.workspaces.contains(where: { $0.requires.roles.contains { $0.wait == .ready } }) else { return [] }
        var providers: [String: [Int]] = [:]
        for (index, workspace) in document.workspaces.enumerated() {
            for role in workspace.provides.roles { providers[role.name, default: []].append(index) }
        }
        // edges[w] = [(provider workspace, role)]
        var edges: [[(to: Int, role: String)]] = Array(repeating: [], count: document.workspaces.count)
        for (index, workspace) in document.workspaces.enumerated() {
            for role in workspace.requires.roles where role.wait == .ready {
                for provider in Set(providers[role.name] ?? []).sorted() { edges[index].append((provider, role.name)) }
            }
        }
        let components = stronglyConnectedComponents(count: edges.count, edges: edges.map { $0.map(\.to) })
        var cycles: [Cycle] = []
        for component in components {
            let members = Set(component)
            let isCycle = component.count > 1 || edges[component[0]].contains { $0.to == component[0] }
            guard isCycle else { continue }
            cycles.append(Cycle(members: walk(from: component.min()!, within: members, edges: edges)))
        }
        return cycles.sorted { $0.members[0].workspace < $1.members[0].workspace }
    }

    /// A simple cycle through `start` inside one strongly connected component (breadth-first back to start).
    private static func walk(from start: Int, within members: Set<Int>, edges: [[(to: Int, role: String)]]) -> [(workspace: Int, role: String)] {
        var previous: [Int: (from: Int, role: String)] = [:]
        var queue = [start]
        var head = 0
        var closing: (from: Int, role: String)?
        search: while head < queue.count {
            let node = queue[head]
            head += 1
            for edge in edges[node] where members.contains(edge.to) {
                if edge.to == start {
                    closing = (node, edge.role)
                    break search
                }
                if previous[edge.to] == nil {
                    previous[edge.to] = (node, edge.role)
                    queue.append(edge.to)
                }
            }
        }
        guard let closing else { return [(start, "")] }
        var path: [(workspace: Int, role: String)] = [(closing.from, closing.role)]
        var node = closing.from
        while node != start, let step = previous[node] {
            path.append((step.from, step.role))
            node = step.from
        }
        return path.reversed()
    }

    /// Tarjan's algorithm, iterative so that large documents cannot exhaust the stack.
    private static func stronglyConnectedComponents(count: Int, edges: [[Int]]) -> [[Int]] {
        var index = 0
        var indices = [Int?](repeating: nil, count: count)
        var lowLinks = [Int](repeating: 0, count: count)
        var onStack = [Bool](repeating: false, count: count)
        var stack: [Int] = []
        var components: [[Int]] = []
        for root in 0..<count where indices[root] == nil {
            var work: [(node: Int, edge: Int)] = [(root, 0)]
            indices[root] = index
            lowLinks[root] = index
            index += 1
            stack.append(root)
            onStack[root] = true
            while let (node, edge) = work.last {
                if edge < edges[node].count {
                    work[work.count - 1].edge += 1
                    let next = edges[node][edge]
                    if indices[next] == nil {
                        indices[next] = index
                        lowLinks[next] = index
                        index += 1
                        stack.append(next)
                        onStack[next] = true
                        work.append((next, 0))
                    } else if onStack[next] {
                        lowLinks[node] = min(lowLinks[node], indices[next]!)
                    }
                } else {
                    work.removeLast()
                    if let parent = work.last { lowLinks[parent.node] = min(lowLinks[parent.node], lowLinks[node]) }
                    if lowLinks[node] == indices[node]! {
                        var component: [Int] = []
                        while let member = stack.popLast() {
                            onStack[member] = false
                            component.append(member)
                            if member == node { break }
                        }
                        components.append(component)
                    }
                }
            }
        }
        return components
    }
}
