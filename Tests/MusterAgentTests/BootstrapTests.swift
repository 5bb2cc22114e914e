import Foundation
import MusterAgent
import MusterCore
import Testing

@Suite("Bootstrap")
struct BootstrapTests {
    let userdata = """
        {
          "broker": "http://127.0.0.1:7480",
          "context": "c-7f3a",
          "node": "rabbitmq-head-0",
          "token": "t0k3n",
          "generation": 2,
          "root": "/var/lib/muster/c-7f3a/nodes/rabbitmq-head-0",
          "nics": [{ "label": "publicnic", "ip": "127.0.1.1", "hostname": "rabbitmq-head-0.c-7f3a.muster.local" }],
          "scriptTimeoutSeconds": 90,
          "someFutureField": true
        }
        """

    func decide(_ text: String?, flags: AgentBootstrap.Fields = AgentBootstrap.Fields()) -> BootstrapDecision {
        BootstrapDecision.decide(userdata: text.map { Data($0.utf8) }, flags: flags)
    }

    @Test("no userdata and no flags: exit 0 quietly, as Nimbus did")
    func noUserdata() {
        guard case .exitQuietly = decide(nil) else {
            Issue.record("expected exitQuietly")
            return
        }
        guard case .exitQuietly = decide("  \n") else {
            Issue.record("expected exitQuietly for blank userdata")
            return
        }
    }

    @Test("userdata meant for something else (a shell script, cloud-config): exit 0 quietly")
    func foreignUserdata() {
        guard case .exitQuietly = decide("#!/bin/sh\necho hi\n") else {
            Issue.record("expected exitQuietly")
            return
        }
    }

    @Test("complete userdata resolves, with defaults for what it leaves out")
    func complete() throws {
        guard case .run(let bootstrap) = decide(userdata) else {
            Issue.record("expected run")
            return
        }
        #expect(bootstrap.broker == URL(string: "http://127.0.0.1:7480"))
        #expect(bootstrap.context == "c-7f3a")
        #expect(bootstrap.node == "rabbitmq-head-0")
        #expect(bootstrap.token == "t0k3n")
        #expect(bootstrap.generation == 2)
        #expect(bootstrap.layout.root.path == "/var/lib/muster/c-7f3a/nodes/rabbitmq-head-0")
        #expect(bootstrap.layout.scripts.path == "/var/lib/muster/c-7f3a/nodes/rabbitmq-head-0/ctx-scripts")
        #expect(bootstrap.nics == [AgentBootstrap.NICHint(label: "publicnic", ip: "127.0.1.1", hostname: "rabbitmq-head-0.c-7f3a.muster.local")])
        #expect(bootstrap.scriptTimeout == .seconds(90))
        #expect(
            bootstrap.identities(pubkey: SeedCluster.key("k"))
                == [Identity(interface: "publicnic", ip: "127.0.1.1", hostname: "rabbitmq-head-0.c-7f3a.muster.local", pubkey: SeedCluster.key("k"))]
        )
    }

    @Test("a broker given as a list of replicas: every address kept in order; a bad one is named")
    func brokerList() {
        let list = userdata.replacingOccurrences(of: "\"http://127.0.0.1:7480\"", with: "\"http://a.example:7077, https://b.example:7077\"")
        guard case .run(let bootstrap) = decide(list) else {
            Issue.record("expected run")
            return
        }
        #expect(bootstrap.broker == URL(string: "http://a.example:7077"))
        #expect(bootstrap.brokers == [URL(string: "http://a.example:7077")!, URL(string: "https://b.example:7077")!])
        let bad = userdata.replacingOccurrences(of: "\"http://127.0.0.1:7480\"", with: "\"http://a.example:7077,ftp://b\"")
        guard case .fail(let error) = decide(bad) else {
            Issue.record("expected fail")
            return
        }
        #expect(error.message.contains("broker \"ftp://b\" is not an http or https URL"))
    }

    @Test("flags override userdata field by field, and can stand alone")
    func flagsOverride() {
        let flags = AgentBootstrap.Fields(node: "other-1", root: "/tmp/n", scripts: "/opt/muster/ctx-scripts", scriptTimeoutSeconds: 0.5)
        guard case .run(let bootstrap) = decide(userdata, flags: flags) else {
            Issue.record("expected run")
            return
        }
        #expect(bootstrap.node == "other-1")
        #expect(bootstrap.token == "t0k3n")
        #expect(bootstrap.layout.scripts.path == "/opt/muster/ctx-scripts")
        #expect(bootstrap.scriptTimeout == .milliseconds(500))

        let alone = AgentBootstrap.Fields(broker: "https://broker.example.org", context: "c", node: "n", token: "t")
        guard case .run(let minimal) = decide(nil, flags: alone) else {
            Issue.record("expected run from flags alone")
            return
        }
        #expect(minimal.layout.root.path == "/")
        #expect(minimal.layout.scripts.path == "/ctx-scripts")
        #expect(minimal.scriptTimeout == AgentBootstrap.defaultScriptTimeout)
        #expect(minimal.generation == 0)
        #expect(minimal.nics.isEmpty)
        #expect(minimal.identities(pubkey: SeedCluster.key("k")) == [])
    }

    @Test("broken JSON userdata is an input error (code 1)")
    func brokenJSON() {
        guard case .fail(let error) = decide("{ \"broker\": ") else {
            Issue.record("expected fail")
            return
        }
        #expect(error.code == NodeExitCode.input)
        guard case .fail(let typed) = decide("{ \"generation\": \"two\" }") else {
            Issue.record("expected fail")
            return
        }
        #expect(typed.message.contains("generation"))
    }

    @Test("every missing or wrong field is named at once, and the token never appears in the message")
    func problemsNamed() {
        guard case .fail(let error) = decide("{ \"broker\": \"ftp://x\", \"token\": \"t0k3n\", \"scriptTimeoutSeconds\": -1 }") else {
            Issue.record("expected fail")
            return
        }
        #expect(error.code == NodeExitCode.input)
        for expected in ["not an http or https URL", "context is missing", "node is missing", "scriptTimeoutSeconds"] {
            #expect(error.message.contains(expected), "\(expected)")
        }
        #expect(!error.message.contains("t0k3n"))
    }

    @Test("identities need every NIC's address and host name; otherwise the agent must discover them")
    func identitiesNeedHints() {
        guard case .run(var bootstrap) = decide(userdata) else {
            Issue.record("expected run")
            return
        }
        bootstrap.nics.append(AgentBootstrap.NICHint(label: "localnic"))
        #expect(bootstrap.identities(pubkey: SeedCluster.key("k")) == nil)
    }

    @Test("userdata written by a launcher (MusterCore's AgentUserdata) resolves field for field")
    func launcherUserdata() throws {
        let written = AgentUserdata(
            broker: "https://broker.example.org:7077",
            context: "cpe-3f9a",
            node: "scheduler-0",
            generation: 1,
            token: "mst_node_x",
            root: "/work/.muster/cpe-3f9a/nodes/scheduler-0",
            nics: [AgentUserdata.NIC(label: "publicnic", ip: "127.77.0.4", hostname: "scheduler-0.cpe-3f9a.muster.local")],
            scriptTimeoutSeconds: 600,
            caCertificatePEM: "-----BEGIN CERTIFICATE-----\n…"
        )
        guard case .run(let bootstrap) = BootstrapDecision.decide(userdata: try JSONEncoder().encode(written)) else {
            Issue.record("expected run")
            return
        }
        #expect(bootstrap.broker.absoluteString == written.broker)
        #expect(bootstrap.context == written.context && bootstrap.node == written.node && bootstrap.token == written.token)
        #expect(bootstrap.generation == 1)
        #expect(bootstrap.layout.root.path == written.root)
        #expect(bootstrap.nics == [AgentBootstrap.NICHint(label: "publicnic", ip: "127.77.0.4", hostname: "scheduler-0.cpe-3f9a.muster.local")])
        #expect(bootstrap.scriptTimeout == .seconds(600))
        #expect(bootstrap.caCertificatePEM == written.caCertificatePEM)
    }

    @Test("userdata holding several nodes' tokens is refused: a node's userdata is its own")
    func bundleRefused() throws {
        let nodes = (0..<3).map { AgentUserdata(broker: "http://b:1", context: "c", node: "slave-\($0)", generation: 0, token: "t\($0)") }
        struct Bundle: Encodable {
            var version = 1
            var nodes: [AgentUserdata]
        }
        let data = try JSONEncoder().encode(Bundle(nodes: nodes))
        guard case .fail(let error) = BootstrapDecision.decide(userdata: data) else {
            Issue.record("expected fail")
            return
        }
        #expect(error.code == NodeExitCode.input)
        #expect(error.message.contains("each node needs userdata of its own"))
    }

    @Test("a NIC name that is not a safe file name is refused at bootstrap", arguments: ["a/b", "..", "", "-x", "eth 0"])
    func unsafeNICName(label: String) {
        let fields = AgentBootstrap.Fields(broker: "http://b", context: "c", node: "n", token: "t", nics: [AgentBootstrap.NICHint(label: label)])
        #expect(throws: AgentError.self) { try fields.resolve() }
        let safe = AgentBootstrap.Fields(broker: "http://b", context: "c", node: "n", token: "t", nics: [AgentBootstrap.NICHint(label: "publicnic")])
        #expect((try? safe.resolve())?.nics.map(\.label) == ["publicnic"])
    }

    @Test("userdata of a newer format version is refused")
    func newerVersion() {
        guard case .fail(let error) = decide("{\"version\": 2, \"broker\": \"http://b\", \"context\": \"c\", \"node\": \"n\", \"token\": \"t\"}")
        else {
            Issue.record("expected fail")
            return
        }
        #expect(error.message.contains("version 2"))
    }

    @Test("a userdata file that does not exist is no userdata")
    func missingFile() throws {
        #expect(try UserdataFile.read(URL(fileURLWithPath: "/nonexistent/\(UUID().uuidString)")) == nil)
    }
}
