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
    ///
    /// The graph has a vertex per workspace and per role that someone waits on to be ready: an edge from a
    /// workspace to each such role it requires, and from each role to the workspaces that provide it. So its size
    /// is linear in the document, even when many workspaces provide and wait on the same role (a graph of
    /// workspaces alone would need an edge for every requirer–provider pair).
    static func find(in document: ClusterDocument) -> [Cycle] {
        // Most documents wait for registration only: no readiness edge, no cycle, nothing to build.
        guard document.workspaces.contains(where: { $0.requires.roles.contains { $0.wait == .ready } }) else { return [] }
        let count = document.workspaces.count
        var roleVertex: [String: Int] = [:]
        var roleNames: [String] = []
        var edges: [[Int]] = Array(repeating: [], count: count)
        for (index, workspace) in document.workspaces.enumerated() {
            var required: Set<Int> = []
            for role in workspace.requires.roles where role.wait == .ready {
                let vertex =
                    roleVertex[role.name]
                    ?? {
                        let vertex = count + roleNames.count
                        roleVertex[role.name] = vertex
                        roleNames.append(role.name)
                        edges.append([])
                        return vertex
                    }()
                if required.insert(vertex).inserted { edges[index].append(vertex) }
            }
        }
        for (index, workspace) in document.workspaces.enumerated() {
            var seen: Set<Int> = []
            for role in workspace.provides.roles {
                if let vertex = roleVertex[role.name], seen.insert(vertex).inserted { edges[vertex].append(index) }
            }
        }
        var cycles: [Cycle] = []
        for component in stronglyConnectedComponents(count: edges.count, edges: edges) where component.count > 1 {
            let members = Set(component)
            let start = component.filter { $0 < count }.min()!
            let path = walk(from: start, within: members, edges: edges)
            // The path alternates workspace, role, workspace, role…
            let steps = stride(from: 0, to: path.count, by: 2).map { (workspace: path[$0], role: roleNames[path[$0 + 1] - count]) }
            cycles.append(Cycle(members: steps))
        }
        return cycles.sorted { $0.members[0].workspace < $1.members[0].workspace }
    }

    /// A shortest cycle through `start` inside one strongly connected component (breadth-first back to start),
    /// as the vertices in order from `start`.
    private static func walk(from start: Int, within members: Set<Int>, edges: [[Int]]) -> [Int] {
        var previous: [Int: Int] = [:]
        var queue = [start]
        var head = 0
        var closing: Int?
        search: while head < queue.count {
            let vertex = queue[head]
            head += 1
            for next in edges[vertex] where members.contains(next) {
                if next == start {
                    closing = vertex
                    break search
                }
                if previous[next] == nil {
                    previous[next] = vertex
                    queue.append(next)
                }
            }
        }
        guard let closing else { return [start] }
        var path = [closing]
        var vertex = closing
        while vertex != start, let step = previous[vertex] {
            path.append(step)
            vertex = step
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
