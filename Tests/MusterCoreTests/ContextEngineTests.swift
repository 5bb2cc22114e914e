import Foundation
import Testing

@testable import MusterCore

@Suite("Context engine")
struct ContextEngineTests {
    static let cpe = cluster(
        workspace("rabbitmq-head", provides: "<identity/><role>rabbitmq-head</role>"),
        workspace("provisioner", requires: "<identity/><role name=\"rabbitmq-head\" hostname=\"true\" pubkey=\"true\"/>"),
        workspace("scheduler", requires: "<identity/><role name=\"rabbitmq-head\" hostname=\"true\" pubkey=\"true\"/>"),
        workspace(
            "aggregator",
            requires: "<identity/><role name=\"rabbitmq-head\" hostname=\"true\" pubkey=\"true\"/><data name=\"secret\">s3cr3t</data>"
        )
    )

    static let torque = cluster(
        workspace("head", provides: "<identity/><role>torquemaster</role>", requires: "<identity/><role name=\"torqueslave\" hostname=\"true\"/>"),
        workspace("compute", quantity: 2, provides: "<identity/><role>torqueslave</role>", requires: "<identity/><role name=\"torquemaster\"/>")
    )

    @Test func `creating a context makes one pending slot per node, named workspace-n`() throws {
        let driver = try EngineDriver(xml: Self.torque)
        #expect(driver.state.nodeNames == ["head-0", "compute-0", "compute-1"])
        #expect(try driver.node("compute-1").state == .pending)
        #expect(try driver.node("compute-1").slot == 1)
        #expect(driver.state.status.expected == 3)
        #expect(driver.state.status.count(.pending) == 3)
        #expect(
            driver.events.first?.change
                == .contextCreated(name: "test", workspaces: ["head", "compute"], nodes: ["head-0", "compute-0", "compute-1"])
        )
    }

    @Test func `the seed's dependents wait on rabbitmq-head and are released when it checks in`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        for node in ["provisioner-0", "scheduler-0", "aggregator-0"] { try driver.bringUp(node) }
        for node in ["provisioner-0", "scheduler-0", "aggregator-0"] {
            let snapshot = try driver.node(node)
            #expect(snapshot.state == .waiting)
            let head = try #require(snapshot.requirements.first { $0.label == "rabbitmq-head" })
            #expect(head.filled == 0)
            #expect(head.expected == 1)
            #expect(head.missing == ["rabbitmq-head-0"])
        }
        #expect(driver.released.isEmpty)
        try driver.bringUp("rabbitmq-head-0")
        #expect(driver.released == ["rabbitmq-head-0", "provisioner-0", "scheduler-0", "aggregator-0"])
        for node in ["provisioner-0", "scheduler-0", "aggregator-0"] {
            #expect(try driver.node(node).state == .configuring)
            let answer = try #require(try driver.answer(node))
            #expect(answer.version == 1)
            let role = try #require(answer.roles.first)
            #expect(role.role == "rabbitmq-head")
            #expect(role.hostname && role.pubkey)
            #expect(role.providers.map(\.node) == ["rabbitmq-head-0"])
            #expect(role.providers[0].identity == (try driver.identities(for: "rabbitmq-head-0"))[0])
            #expect(answer.identities.map(\.node) == ["rabbitmq-head-0", "provisioner-0", "scheduler-0", "aggregator-0"])
        }
    }

    @Test func `waiting is on check-in, not readiness: providers need not have finished`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        try driver.bringUp("rabbitmq-head-0")
        for node in ["provisioner-0", "scheduler-0", "aggregator-0"] { try driver.bringUp(node) }
        #expect(try driver.node("rabbitmq-head-0").state == .configuring)
        #expect(try driver.node("aggregator-0").state == .configuring)
    }

    @Test func `Torque's mutual requirements release without deadlock`() throws {
        var driver = try EngineDriver(xml: Self.torque)
        try driver.bringUp("head-0")
        #expect(try driver.node("head-0").state == .waiting)
        try driver.bringUp("compute-0")
        #expect(try driver.node("compute-0").state == .waiting, "compute-0 also requires every identity")
        try driver.bringUp("compute-1")
        #expect(Set(driver.released) == ["head-0", "compute-0", "compute-1"])
        let head = try #require(try driver.answer("head-0"))
        #expect(head.roles.first?.providers.map(\.node) == ["compute-0", "compute-1"])
        for node in ["head-0", "compute-0", "compute-1"] { try driver.reportOK(node) }
        let status = driver.state.status
        #expect(status.complete && status.allOk && !status.errorPresent)
        #expect(status.registered == 3)
    }

    @Test func `requiring all identities holds a node until every node has registered`() throws {
        var driver = try EngineDriver(xml: cluster(workspace("a", quantity: 3, requires: "<identity/>")))
        try driver.bringUp("a-0")
        try driver.bringUp("a-1")
        #expect(driver.released.isEmpty)
        let waiting = try driver.node("a-0").requirements
        #expect(waiting.map(\.kind) == [.allIdentities])
        #expect(waiting[0].filled == 2 && waiting[0].expected == 3 && waiting[0].missing == ["a-2"])
        try driver.bringUp("a-2")
        #expect(driver.released == ["a-2", "a-0", "a-1"])
        #expect(try driver.answer("a-1")?.identities.count == 3)
    }

    @Test func `a node that requires nothing is released when it checks in`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        try driver.bringUp("rabbitmq-head-0")
        let states = driver.events.compactMap { event -> NodeState? in
            if case .nodeState(let t) = event.change, t.node == "rabbitmq-head-0" { return t.to }
            return nil
        }
        #expect(states == [.launching, .booted, .registered, .configuring])
    }

    @Test func `data values reach only the nodes that require them`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        for node in driver.state.nodeNames { try driver.bringUp(node) }
        #expect(try driver.answer("aggregator-0")?.data == [DataSpec(name: "secret", value: "s3cr3t")])
        for node in ["rabbitmq-head-0", "provisioner-0", "scheduler-0"] {
            #expect(try driver.answer(node)?.data == [])
        }
        // Operator views never carry values: the snapshot has names only.
        let snapshot = try driver.engine.snapshot(of: driver.context)
        let encoded = String(decoding: try JSONEncoder().encode(snapshot), as: UTF8.self)
        #expect(!encoded.contains("s3cr3t"))
        #expect(snapshot.workspaces.last?.dataNames == ["secret"])
        let events = String(decoding: try JSONEncoder().encode(driver.events), as: UTF8.self)
        #expect(!events.contains("s3cr3t"))
    }

    @Test func `a role provided on a named interface hands out that NIC's identity`() throws {
        var driver = try EngineDriver(
            xml: cluster(
                workspace(
                    "head",
                    nics: "<nic interface=\"publicnic\">public</nic><nic interface=\"localnic\">private</nic>",
                    provides: "<identity/><role interface=\"localnic\">m</role>"
                ),
                workspace("w", requires: "<role name=\"m\"/>")
            )
        )
        try driver.bringUp("head-0")
        try driver.bringUp("w-0")
        let provider = try #require(try driver.answer("w-0")?.roles.first?.providers.first)
        #expect(provider.identity.interface == "localnic")
        #expect(provider.identity.ip.hasPrefix("10.1."))
    }

    @Test func `a readiness wait holds the requirer until the provider is ok`() throws {
        let xml = cluster(
            workspace("db", provides: "<identity/><role>db</role>"),
            workspace("app", quantity: 2, requires: "<role name=\"db\" muster:wait=\"ready\"/>"),
            namespaces: " xmlns:muster=\"\(ClusterNamespace.muster)\""
        )
        var driver = try EngineDriver(xml: xml)
        for node in driver.state.nodeNames { try driver.bringUp(node) }
        #expect(driver.released == ["db-0"])
        let requirement = try #require(try driver.node("app-0").requirements.first)
        #expect(requirement.wait == .ready && requirement.filled == 0 && requirement.missing == ["db-0"])
        try driver.reportOK("db-0")
        #expect(driver.released == ["db-0", "app-0", "app-1"])
    }

    @Test func `a failed provider does not satisfy a readiness wait until it is retried and ok`() throws {
        let xml = cluster(
            workspace("db", provides: "<identity/><role>db</role>"),
            workspace("app", requires: "<role name=\"db\" muster:wait=\"ready\"/>"),
            namespaces: " xmlns:muster=\"\(ClusterNamespace.muster)\""
        )
        var driver = try EngineDriver(xml: xml)
        for node in driver.state.nodeNames { try driver.bringUp(node) }
        try driver.apply(.report(context: driver.context, node: "db-0", result: .error(code: 4, message: "script failed")))
        #expect(try driver.node("db-0").state == .failed)
        #expect(driver.state.status.errorPresent)
        #expect(try driver.node("app-0").state == .waiting)
        try driver.apply(.retry(context: driver.context, node: "db-0"))
        try driver.bringUp("db-0")
        try driver.reportOK("db-0")
        #expect(try driver.node("app-0").state == .configuring)
    }

    @Test func `nodes added later join the providers and already-released requirers are told`() throws {
        var driver = try EngineDriver(xml: Self.torque)
        for node in driver.state.nodeNames { try driver.bringUp(node) }
        driver.clearRecord()
        try driver.apply(.addNodes(context: driver.context, workspace: "compute", count: 1))
        #expect(driver.state.nodeNames.last == "compute-2")
        #expect(try driver.node("compute-2").state == .pending)
        #expect(driver.events.contains { $0.change == .nodeAdded(node: "compute-2", workspace: "compute") })
        #expect(driver.events.contains { $0.change == .roleProgress(RoleStatus(role: "torqueslave", registered: 2, ready: 0, expected: 3)) })
        #expect(driver.state.status.complete == false)
        try driver.bringUp("compute-2")
        // The head requires torqueslave and every identity; the other computes require every identity.
        #expect(driver.notified == [["head-0", "compute-0", "compute-1"]])
        #expect(
            driver.events.contains {
                $0.change == .providerJoined(node: "compute-2", roles: ["torqueslave"], requirers: ["head-0", "compute-0", "compute-1"])
            }
        )
        let head = try #require(try driver.answer("head-0"))
        #expect(head.version == 2)
        #expect(head.roles[0].providers.map(\.node) == ["compute-0", "compute-1", "compute-2"])
        // compute-2 itself is released at once (the master and every identity are in).
        #expect(try driver.node("compute-2").state == .configuring)
    }

    @Test func `a node replaced by a retry re-registers and requirers hear of its new identity`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        for node in driver.state.nodeNames { try driver.bringUp(node) }
        try driver.apply(.kill(context: driver.context, node: "rabbitmq-head-0"))
        #expect(driver.state.roleStatuses.first { $0.role == "rabbitmq-head" }?.registered == 0)
        #expect(try driver.answer("provisioner-0")?.roles[0].providers.isEmpty == true)
        driver.clearRecord()
        try driver.apply(.retry(context: driver.context, node: "rabbitmq-head-0"))
        #expect(driver.actions == [.launch(context: driver.context, node: "rabbitmq-head-0", generation: 1)])
        try driver.bringUp("rabbitmq-head-0")
        #expect(driver.notified == [["provisioner-0", "scheduler-0", "aggregator-0"]])
        #expect(try driver.answer("provisioner-0")?.version == 2)
        #expect(try driver.node("rabbitmq-head-0").generation == 1)
    }

    @Test func `an agent that checks in again with the same identity changes nothing`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        for node in driver.state.nodeNames { try driver.bringUp(node) }
        let outcome = try driver.apply(
            .checkIn(context: driver.context, node: "rabbitmq-head-0", identities: try driver.identities(for: "rabbitmq-head-0"))
        )
        #expect(outcome.events.isEmpty && outcome.actions.isEmpty)
    }

    @Test func `an agent that checks in again with a new address is passed on to released requirers`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        for node in driver.state.nodeNames { try driver.bringUp(node) }
        var identity = try driver.identities(for: "rabbitmq-head-0")
        identity[0].ip = "10.9.9.9"
        let outcome = try driver.apply(.checkIn(context: driver.context, node: "rabbitmq-head-0", identities: identity))
        #expect(outcome.actions == [.notify(context: driver.context, nodes: ["provisioner-0", "scheduler-0", "aggregator-0"])])
        #expect(try driver.answer("scheduler-0")?.roles[0].providers[0].identity.ip == "10.9.9.9")
    }

    @Test func `scripts are recorded on the timeline and a repeated report is ignored`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        for node in driver.state.nodeNames { try driver.bringUp(node) }
        let script = ScriptRef(
            phase: 1,
            script: "1-ipandhost/rabbitmq-head",
            arguments: ["10.0.0.1", "rabbitmq-head-0", "rabbitmq-head-0.ctx.muster.local"]
        )
        try driver.apply(.scriptStarted(context: driver.context, node: "provisioner-0", script: script))
        let repeated = try driver.apply(.scriptStarted(context: driver.context, node: "provisioner-0", script: script))
        #expect(repeated.events.isEmpty)
        try driver.apply(.scriptFinished(context: driver.context, node: "provisioner-0", script: script, exitCode: 0))
        let timeline = try driver.node("provisioner-0").timeline
        #expect(timeline.count == 1)
        #expect(timeline[0].exitCode == 0)
        #expect(timeline[0].finished!.timeIntervalSince(timeline[0].started) == 2, "started at t+1; the repeat at t+2 is ignored; finished at t+3")
        try driver.reportOK("provisioner-0")
        let again = try driver.apply(.report(context: driver.context, node: "provisioner-0", result: .ok))
        #expect(again.events.isEmpty)
    }

    @Test func `refused commands throw and change nothing`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        try driver.bringUp("provisioner-0")
        let before = try driver.engine.snapshot(of: driver.context)
        let sequence = driver.engine.lastSequence
        let refusals: [(EngineCommand, EngineError.Code)] = [
            (.report(context: driver.context, node: "provisioner-0", result: .ok), .conflict),
            (.scriptStarted(context: driver.context, node: "provisioner-0", script: ScriptRef(phase: 0, script: "0-etchosts.sh")), .conflict),
            (.retry(context: driver.context, node: "provisioner-0"), .conflict),
            (.launch(context: driver.context, node: "provisioner-0"), .conflict),
            (.checkIn(context: driver.context, node: "nobody-0", identities: []), .unknownNode),
            (.checkIn(context: driver.context, node: "scheduler-0", identities: []), .invalidInput),
            (
                .checkIn(
                    context: driver.context,
                    node: "scheduler-0",
                    identities: [Identity(interface: "eth7", ip: "1.2.3.4", hostname: "h", pubkey: TestKeys.ed25519(1))]
                ), .invalidInput
            ),
            (.addNodes(context: driver.context, workspace: "nope", count: 1), .unknownWorkspace),
            (.addNodes(context: driver.context, workspace: "scheduler", count: 0), .invalidInput),
            (.addNodes(context: driver.context, workspace: "scheduler", count: Int.max), .invalidInput),
            (.kill(context: "other", node: "x"), .unknownContext),
            (
                .createContext(id: driver.context, name: "again", document: try ClusterDocumentParser.document(from: Array(Self.cpe.utf8))),
                .duplicateContext
            ),
        ]
        for (command, code) in refusals {
            #expect(throws: EngineError.self) {
                do { try driver.apply(command) } catch let error as EngineError {
                    #expect(error.code == code, "\(command)")
                    #expect(!error.message.isEmpty)
                    throw error
                }
            }
        }
        #expect(try driver.engine.snapshot(of: driver.context) == before)
        #expect(driver.engine.lastSequence == sequence)
    }

    @Test func `a killed node cannot check in until it is retried`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        try driver.apply(.launch(context: driver.context, node: "scheduler-0"))
        try driver.apply(.kill(context: driver.context, node: "scheduler-0"))
        #expect(driver.actions.last == .stop(context: driver.context, node: "scheduler-0"))
        #expect(throws: EngineError.self) { try driver.checkIn("scheduler-0") }
        try driver.apply(.retry(context: driver.context, node: "scheduler-0"))
        try driver.checkIn("scheduler-0")
        #expect(try driver.node("scheduler-0").state == .waiting)
    }

    @Test func `a launch failure fails the node with the launcher's code and message`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        try driver.apply(.launch(context: driver.context, node: "scheduler-0"))
        try driver.apply(.launchFailed(context: driver.context, node: "scheduler-0", message: "no image folder images/ooi-base"))
        let node = try driver.node("scheduler-0")
        #expect(node.state == .failed && node.exitCode == NodeExitCode.launch && node.message == "no image folder images/ooi-base")
    }

    @Test func `a timed-out node stops and counts as an error`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        try driver.apply(.launch(context: driver.context, node: "scheduler-0"))
        try driver.apply(.timeOut(context: driver.context, node: "scheduler-0", message: "not ok after 600 s"))
        #expect(try driver.node("scheduler-0").state == .timedOut)
        #expect(driver.state.status.errorPresent)
        #expect(driver.actions.last == .stop(context: driver.context, node: "scheduler-0"))
    }

    @Test func `terminating kills every unfinished node, stops the ok ones too, and refuses further input`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        for node in driver.state.nodeNames { try driver.bringUp(node) }
        try driver.reportOK("rabbitmq-head-0")
        driver.clearRecord()
        try driver.apply(.terminate(context: driver.context))
        // Three unfinished nodes are killed; the ok head keeps its result, but its attached agent is stopped as well.
        let stopped = driver.actions.compactMap { action -> String? in
            if case .stop(_, let node) = action { return node }
            return nil
        }
        #expect(Set(stopped) == Set(driver.state.nodeNames))
        #expect(driver.actions.count == 4)
        #expect(try driver.node("rabbitmq-head-0").state == .ok)
        #expect(try driver.node("provisioner-0").state == .killed)
        let status = driver.state.status
        #expect(status.terminated && status.complete && !status.allOk)
        #expect(throws: EngineError.self) { try driver.reportOK("scheduler-0") }
        #expect(driver.events.contains { $0.change == .contextTerminated })
    }

    @Test func `status follows Nimbus: complete, allOk, errorPresent, registered of expected`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        for node in driver.state.nodeNames { try driver.bringUp(node) }
        #expect(driver.state.status.registered == 4)
        #expect(!driver.state.status.complete)
        try driver.reportOK("rabbitmq-head-0")
        try driver.reportOK("provisioner-0")
        try driver.reportOK("scheduler-0")
        try driver.apply(.report(context: driver.context, node: "aggregator-0", result: .error(code: 4, message: "exit 1")))
        let status = driver.state.status
        #expect(status.complete && !status.allOk && status.errorPresent)
        #expect(status.counts == [.ok: 3, .failed: 1])
        #expect(try driver.node("aggregator-0").exitCode == 4)
        #expect(try driver.node("aggregator-0").message == "exit 1")
    }

    @Test func `sequence numbers increase by one across contexts`() throws {
        var driver = try EngineDriver(xml: Self.cpe)
        try driver.apply(.createContext(id: "second", name: "b", document: try ClusterDocumentParser.document(from: Array(Self.torque.utf8))))
        for node in driver.state.nodeNames { try driver.bringUp(node) }
        let numbers = driver.events.map(\.sequence)
        #expect(numbers == Array(1...UInt64(numbers.count)))
        #expect(driver.engine.lastSequence == UInt64(numbers.count))
        #expect(driver.engine.contextOrder == [driver.context, "second"])
    }

    @Test func `replaying the same commands rebuilds the same state and events`() throws {
        var driver = try EngineDriver(xml: Self.torque)
        for node in driver.state.nodeNames { try driver.bringUp(node) }
        try driver.apply(.addNodes(context: driver.context, workspace: "compute", count: 2))
        try driver.bringUp("compute-3")
        try driver.reportOK("head-0")
        var replay = ContextEngine()
        var events: [ContextEvent] = []
        for (command, time) in driver.commands {
            events += try replay.apply(command, at: time).events
        }
        #expect(events == driver.events)
        #expect(try replay.snapshot(of: driver.context) == (try driver.engine.snapshot(of: driver.context)))
    }

    @Test func `commands survive a round trip through JSON`() throws {
        let driver = try EngineDriver(xml: Self.cpe)
        let data = try JSONEncoder().encode(driver.commands.map(\.0))
        let decoded = try JSONDecoder().decode([EngineCommand].self, from: data)
        #expect(decoded == driver.commands.map(\.0))
    }
}
