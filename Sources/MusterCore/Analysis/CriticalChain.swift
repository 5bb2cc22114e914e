import Foundation

/// What a boot analysis reads: the nodes of one context and who provides what. ``BootTimeline`` is the plain
/// implementation; the console adapts its own model, so that a frame never copies ten thousand records.
public protocol BootSource {
    /// How many nodes there are.
    var nodeCount: Int { get }
    /// The record of node `index`.
    func boot(of index: Int) -> NodeBoot
    /// When node `index` finished, if it did (read for every node: keep it cheap).
    func finishedAt(of index: Int) -> Date?
    /// The nodes that provide a requirement label (a role; `*` means every node).
    func providers(of label: String) -> [Int]
    /// When node `index` arrived as a provider: checked in (``WaitCondition/registered``) or finished ok
    /// (``WaitCondition/ready``); read for every provider of a requirement on the chain, so keep it cheap.
    func arrival(of index: Int, for wait: WaitCondition) -> Date?
}

extension BootSource {
    public func arrival(of index: Int, for wait: WaitCondition) -> Date? {
        let record = boot(of: index)
        return wait == .ready ? (record.state == .ok ? record.finishedAt : nil) : record.registeredAt
    }
}

/// The chain of waits and scripts that decided when a context completed, as `systemd-analyze critical-chain`
/// shows for a boot: the last node to finish, the scripts it ran after its release, the requirement whose
/// provider released it last, that provider's own boot (or, for a readiness wait, its scripts and release),
/// and so on back to a node that waited for nothing.
public struct CriticalChain: Sendable, Hashable, Codable {
    /// One step of the chain.
    public struct Link: Sendable, Hashable, Codable {
        /// What the step is.
        public enum Kind: String, Sendable, Hashable, Codable {
            /// From launch to check-in: the node's own start.
            case boot
            /// Checked in, waiting for a requirement (``Link/label``) until its last provider came.
            case wait
            /// From release to the end: the node's scripts.
            case scripts
        }

        /// The node.
        public var node: String
        /// What the step is.
        public var kind: Kind
        /// When it started (nil when not known).
        public var start: Date?
        /// When it ended.
        public var end: Date
        /// For a wait: the requirement label (role, or `*`).
        public var label: String?
        /// For a wait: the provider whose arrival met it.
        public var provider: String?
        /// For scripts: the slowest one.
        public var slowest: ScriptRun?

        /// Creates a step (``CriticalChain/compute(_:)`` makes them; tools and tests may too).
        public init(
            node: String,
            kind: Kind,
            start: Date?,
            end: Date,
            label: String? = nil,
            provider: String? = nil,
            slowest: ScriptRun? = nil
        ) {
            self.node = node
            self.kind = kind
            self.start = start
            self.end = end
            self.label = label
            self.provider = provider
            self.slowest = slowest
        }

        /// How long the step took (0 when its start is not known).
        public var duration: TimeInterval { start.map { end.timeIntervalSince($0) } ?? 0 }
    }

    /// The steps, earliest first.
    public var links: [Link]
    /// When the chain ends (the last node finished).
    public var end: Date

    /// Creates a chain from its steps, earliest first.
    public init(links: [Link], end: Date) {
        self.links = links
        self.end = end
    }

    /// The nodes on the chain, earliest first, each once.
    public var nodes: [String] {
        var seen: Set<String> = []
        return links.map(\.node).filter { seen.insert($0).inserted }
    }

    /// `rabbitmq-head-0 boot → provisioner-0 waits for rabbitmq-head → provisioner-0 scripts`.
    public var summary: String {
        links.map { link in
            switch link.kind {
            case .boot: "\(link.node) boot"
            case .wait: "\(link.node) waits for \(link.label == "*" ? "every identity" : link.label ?? "?")"
            case .scripts: "\(link.node) scripts"
            }
        }.joined(separator: " → ")
    }

    /// The chain of a context: from the node that finished last back along what released it. Nil while no
    /// node has finished. Work: one pass over the nodes for the last finisher, then one pass over the providers
    /// of each requirement on the chain.
    public static func compute(_ source: some BootSource) -> CriticalChain? {
        var last: (index: Int, time: Date)?
        for index in 0..<source.nodeCount {
            guard let time = source.finishedAt(of: index) else { continue }
            if last == nil || time > last!.time { last = (index, time) }
        }
        guard let last else { return nil }
        var links: [Link] = []
        var visited: Set<Int> = []
        // Walk back: `index` must be explained up to `end`, either its finish (scripts) or its check-in (boot).
        var step: (index: Int, end: Date, finish: Bool)? = (last.index, last.time, true)
        while let current = step, visited.insert(current.index).inserted || !current.finish {
            let node = source.boot(of: current.index)
            step = nil
            guard current.finish else {
                links.append(Link(node: node.name, kind: .boot, start: node.launchedAt, end: node.registeredAt ?? current.end))
                break
            }
            guard let released = node.releasedAt else {
                links.append(Link(node: node.name, kind: .boot, start: node.launchedAt, end: current.end))
                break
            }
            links.append(Link(node: node.name, kind: .scripts, start: released, end: current.end, slowest: node.slowestScript))
            // The requirement met last released the node, unless the node itself checked in later than that.
            let deciding = node.waits.filter { $0.metSince != nil }.max { $0.metSince! < $1.metSince! }
            guard let deciding, let met = deciding.metSince, node.registeredAt.map({ $0 < met }) ?? true else {
                links.append(Link(node: node.name, kind: .boot, start: node.launchedAt, end: node.registeredAt ?? released))
                break
            }
            let provider = Self.provider(of: deciding, metAt: met, in: source, excluding: current.index)
            links.append(
                Link(
                    node: node.name,
                    kind: .wait,
                    start: node.registeredAt,
                    end: met,
                    label: deciding.label,
                    provider: provider.map { source.boot(of: $0).name }
                )
            )
            guard let provider else { break }
            step = (provider, met, deciding.wait == .ready)
            if deciding.wait == .ready && visited.contains(provider) { break }
        }
        return CriticalChain(links: links.reversed(), end: last.time)
    }

    /// The provider whose arrival (check-in, or finish for a readiness wait) came last, no later than `met`.
    private static func provider(of wait: NodeBoot.Wait, metAt met: Date, in source: some BootSource, excluding node: Int) -> Int? {
        var best: (index: Int, time: Date)?
        for index in source.providers(of: wait.label) where index != node {
            guard let arrived = source.arrival(of: index, for: wait.wait), arrived <= met.addingTimeInterval(0.001) else { continue }
            if best == nil || arrived > best!.time { best = (index, arrived) }
        }
        return best?.index
    }
}

/// A context's nodes as plain records: what `muster analyze` builds from a snapshot and the context's events.
public struct BootTimeline: BootSource, Sendable, Hashable, Codable {
    /// When the context was created.
    public var createdAt: Date
    /// Every node, in workspace then slot order.
    public var nodes: [NodeBoot]
    /// The roles each workspace provides.
    public var roles: [String: [String]]

    /// A timeline from a snapshot; refine it with ``apply(_:)``.
    public init(_ snapshot: ContextSnapshot) {
        createdAt = snapshot.createdAt
        nodes = snapshot.nodes.map { NodeBoot($0, contextCreatedAt: snapshot.createdAt) }
        roles = Dictionary(snapshot.workspaces.map { ($0.name, $0.roles) }, uniquingKeysWith: { first, _ in first })
        positions = Dictionary(nodes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private var positions: [String: Int]

    /// Takes in the context's events in order (history from the first, so that launch and check-in times of
    /// every attempt are known).
    public mutating func apply(_ events: [ContextEvent]) {
        for event in events {
            guard let name = event.change.node, let index = positions[name] else { continue }
            nodes[index].apply(event.change, at: event.time)
        }
    }

    public var nodeCount: Int { nodes.count }
    public func boot(of index: Int) -> NodeBoot { nodes[index] }
    public func finishedAt(of index: Int) -> Date? { nodes[index].finishedAt }

    public func providers(of label: String) -> [Int] {
        if label == "*" { return Array(nodes.indices) }
        return nodes.indices.filter { roles[nodes[$0].workspace]?.contains(label) ?? false }
    }

    /// The slowest finished scripts of the context, slowest first.
    public func slowestScripts(limit: Int) -> [(node: String, run: ScriptRun)] {
        var all: [(node: String, run: ScriptRun)] = []
        for node in nodes {
            for run in node.scripts where run.finished != nil { all.append((node.name, run)) }
        }
        return Array(all.sorted { $0.run.duration > $1.run.duration }.prefix(limit))
    }
}
