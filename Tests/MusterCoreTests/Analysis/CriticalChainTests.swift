import Foundation
import Testing

@testable import MusterCore

/// The critical chain on small contexts built by hand, where the chain is known: which node finished last, what
/// released it, which provider came last, and back to a node that waited for nothing.
/// `seconds` after the hand-built contexts' creation.
private func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_700_000_000 + seconds) }

/// A finished script run from `start` to `end` (seconds after creation).
private func run(_ script: String, phase: Int, _ start: Double, _ end: Double, exit: Int = 0) -> ScriptRun {
    ScriptRun(script: ScriptRef(phase: phase, script: script), started: at(start), finished: at(end), exitCode: exit)
}

@Suite("Critical chain")
struct CriticalChainTests {
    /// A context as plain records: the nodes and the roles each workspace provides.
    struct HandBuilt: BootSource {
        var nodes: [NodeBoot]
        var roles: [String: [String]]

        var nodeCount: Int { nodes.count }
        func boot(of index: Int) -> NodeBoot { nodes[index] }
        func finishedAt(of index: Int) -> Date? { nodes[index].finishedAt }
        func providers(of label: String) -> [Int] {
            label == "*" ? Array(nodes.indices) : nodes.indices.filter { roles[nodes[$0].workspace]?.contains(label) ?? false }
        }
    }

    /// Two databases (db-0 slow, db-1 quick) and two web nodes that wait for the role `db` to be *ready*, and a
    /// cache that waits for nothing and finishes early. The last to finish is web-0 at 25 s; it was released when
    /// the slow db-0 finished (20 s), whose slow `2-thishost/init-db` took 14 s after its own boot (0–5 s).
    static func slowDatabase() -> HandBuilt {
        let readyDB = NodeBoot.Wait(label: "db", wait: .ready, metSince: at(20))
        return HandBuilt(
            nodes: [
                NodeBoot(
                    name: "db-0",
                    workspace: "db",
                    state: .ok,
                    launchedAt: at(0),
                    registeredAt: at(5),
                    releasedAt: at(5),
                    finishedAt: at(20),
                    scripts: [run("0-etchosts.sh", phase: 0, 5, 6), run("2-thishost/init-db", phase: 2, 6, 20)]
                ),
                NodeBoot(
                    name: "db-1",
                    workspace: "db",
                    state: .ok,
                    launchedAt: at(0),
                    registeredAt: at(2),
                    releasedAt: at(2),
                    finishedAt: at(12),
                    scripts: [run("2-thishost/init-db", phase: 2, 2, 12)]
                ),
                NodeBoot(
                    name: "web-0",
                    workspace: "web",
                    state: .ok,
                    launchedAt: at(0),
                    registeredAt: at(3),
                    releasedAt: at(20),
                    finishedAt: at(25),
                    scripts: [run("1-ipandhost/db", phase: 1, 20, 21), run("2-thishost/start-web", phase: 2, 21, 25)],
                    waits: [readyDB]
                ),
                NodeBoot(
                    name: "web-1",
                    workspace: "web",
                    state: .ok,
                    launchedAt: at(0),
                    registeredAt: at(4),
                    releasedAt: at(20),
                    finishedAt: at(23),
                    scripts: [run("2-thishost/start-web", phase: 2, 20, 23)],
                    waits: [readyDB]
                ),
                NodeBoot(
                    name: "cache-0",
                    workspace: "cache",
                    state: .ok,
                    launchedAt: at(0),
                    registeredAt: at(1),
                    releasedAt: at(1),
                    finishedAt: at(4),
                    scripts: [run("2-thishost/start-cache", phase: 2, 1, 4)]
                ),
            ],
            roles: ["db": ["db"], "web": ["web"], "cache": ["cache"]]
        )
    }

    @Test func `the chain runs from the slow provider's boot through its scripts to the last node's wait and scripts`() throws {
        let chain = try #require(CriticalChain.compute(Self.slowDatabase()))
        #expect(chain.end == at(25), "the chain ends when the last node (web-0) finished")
        #expect(chain.links.map(\.kind) == [.boot, .scripts, .wait, .scripts])
        #expect(chain.links.map(\.node) == ["db-0", "db-0", "web-0", "web-0"])
        #expect(chain.nodes == ["db-0", "web-0"], "db-1 finished sooner, web-1 and cache-0 finished earlier: none is on the chain")

        let boot = chain.links[0]
        #expect(boot.start == at(0) && boot.end == at(5) && boot.duration == 5)
        let scripts = chain.links[1]
        #expect(scripts.start == at(5) && scripts.end == at(20))
        #expect(scripts.slowest?.script.script == "2-thishost/init-db" && scripts.slowest?.duration == 14)
        let wait = chain.links[2]
        #expect(wait.label == "db" && wait.provider == "db-0", "the provider that came last decided the release")
        #expect(wait.start == at(3) && wait.end == at(20) && wait.duration == 17)
        let last = chain.links[3]
        #expect(last.start == at(20) && last.end == at(25))
        #expect(last.slowest?.script.script == "2-thishost/start-web")
        #expect(chain.summary == "db-0 boot → db-0 scripts → web-0 waits for db → web-0 scripts")
    }

    @Test func `a registration wait leads to the boot of the provider that checked in last, and stops there`() throws {
        // agg-0 requires every identity; slow-0 checked in last (9 s), long before it finished (30 s): it is on the
        // chain only for its boot, not for its scripts.
        let source = HandBuilt(
            nodes: [
                NodeBoot(
                    name: "slow-0",
                    workspace: "slow",
                    state: .ok,
                    launchedAt: at(1),
                    registeredAt: at(9),
                    releasedAt: at(9),
                    finishedAt: at(12)
                ),
                NodeBoot(
                    name: "quick-0",
                    workspace: "quick",
                    state: .ok,
                    launchedAt: at(0),
                    registeredAt: at(2),
                    releasedAt: at(2),
                    finishedAt: at(3)
                ),
                NodeBoot(
                    name: "agg-0",
                    workspace: "agg",
                    state: .ok,
                    launchedAt: at(0),
                    registeredAt: at(4),
                    releasedAt: at(9),
                    finishedAt: at(40),
                    scripts: [run("1-ipandhost/slow", phase: 1, 9, 40)],
                    waits: [NodeBoot.Wait(label: "*", wait: .registered, metSince: at(9))]
                ),
            ],
            roles: [:]
        )
        let chain = try #require(CriticalChain.compute(source))
        #expect(chain.links.map(\.kind) == [.boot, .wait, .scripts])
        #expect(chain.links.map(\.node) == ["slow-0", "agg-0", "agg-0"])
        #expect(chain.links[0].start == at(1) && chain.links[0].end == at(9), "from slow-0's launch to its check-in")
        #expect(chain.links[1].provider == "slow-0")
        #expect(chain.summary == "slow-0 boot → agg-0 waits for every identity → agg-0 scripts")
    }

    @Test func `a node whose requirement was met before it checked in was held by its own boot`() throws {
        // The head registered at 2 s; web-0 checked in only at 8 s: nothing but its own boot delayed it.
        let source = HandBuilt(
            nodes: [
                NodeBoot(name: "head-0", workspace: "head", state: .ok, launchedAt: at(0), registeredAt: at(2), releasedAt: at(2), finishedAt: at(3)),
                NodeBoot(
                    name: "web-0",
                    workspace: "web",
                    state: .failed,
                    launchedAt: at(0),
                    registeredAt: at(8),
                    releasedAt: at(8),
                    finishedAt: at(11),
                    scripts: [run("1-ipandhost/head", phase: 1, 8, 11, exit: 3)],
                    waits: [NodeBoot.Wait(label: "head", wait: .registered, metSince: at(2))]
                ),
            ],
            roles: ["head": ["head"]]
        )
        let chain = try #require(CriticalChain.compute(source))
        #expect(chain.links.map(\.kind) == [.boot, .scripts], "a failed node finishes too, and its chain is its own")
        #expect(chain.nodes == ["web-0"])
        #expect(chain.links[0].end == at(8))
        #expect(chain.links[1].slowest?.exitCode == 3)
    }

    @Test func `there is no chain while no node has finished`() {
        var source = Self.slowDatabase()
        for index in source.nodes.indices { source.nodes[index].finishedAt = nil }
        #expect(CriticalChain.compute(source) == nil)
        #expect(CriticalChain.compute(HandBuilt(nodes: [], roles: [:])) == nil)
    }

    @Test func `a timeline built from a real boot's snapshot and events finds the readiness chain and the slowest scripts`() throws {
        let xml = """
            <cluster xmlns:muster="urn:muster:cluster:1">
              <workspace><name>db</name><image>db</image><quantity>1</quantity><nic>public</nic>
                <ctx><provides><identity/><role>db</role></provides></ctx></workspace>
              <workspace><name>web</name><image>web</image><quantity>1</quantity><nic>public</nic>
                <ctx><provides><identity/></provides><requires><role name="db" muster:wait="ready"/></requires></ctx></workspace>
            </cluster>
            """
        var driver = try EngineDriver(xml: xml)
        let context = driver.context
        for node in ["db-0", "web-0"] {
            try driver.apply(.launch(context: context, node: node))
            try driver.apply(.booted(context: context, node: node))
        }
        try driver.checkIn("web-0")
        try driver.checkIn("db-0")
        let slow = ScriptRef(phase: 2, script: "2-thishost/publicnic")
        try driver.apply(.scriptStarted(context: context, node: "db-0", script: slow))
        for _ in 0..<5 { driver.now += 1 }  // the database's script takes six seconds
        try driver.apply(.scriptFinished(context: context, node: "db-0", script: slow, exitCode: 0))
        try driver.reportOK("db-0")
        let quick = ScriptRef(phase: 1, script: "1-ipandhost/db")
        try driver.apply(.scriptStarted(context: context, node: "web-0", script: quick))
        try driver.apply(.scriptFinished(context: context, node: "web-0", script: quick, exitCode: 0))
        try driver.reportOK("web-0")

        var timeline = BootTimeline(try driver.engine.snapshot(of: context))
        timeline.apply(driver.events)
        let chain = try #require(CriticalChain.compute(timeline))
        #expect(chain.summary == "db-0 boot → db-0 scripts → web-0 waits for db → web-0 scripts")
        #expect(chain.links[0].start != nil, "the events give db-0's launch time")
        #expect(chain.links[2].provider == "db-0")
        let slowest = timeline.slowestScripts(limit: 1)
        #expect(slowest.count == 1)
        #expect(slowest.first?.node == "db-0" && slowest.first?.run.script == slow && slowest.first?.run.duration == 6)
        #expect(timeline.slowestScripts(limit: 5).map(\.node) == ["db-0", "web-0"], "slowest first, finished scripts only")
    }
}
