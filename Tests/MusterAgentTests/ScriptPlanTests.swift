import MusterAgent
import MusterCore
import Testing

@Suite("Script plan")
struct ScriptPlanTests {
    typealias Seed = SeedCluster

    /// Every script the table can call for the seed's dependents.
    let seedListing = ScriptListing(files: [
        "0-etchosts.sh", "1-ipandhost/rabbitmq-head", "2-thishost/publicnic", "4-restarts/rabbitmq-head", "5-thishost-finalize/publicnic",
    ])

    @Test("a seed dependent runs the six phases in table order with IP, short name and FQDN")
    func seedDependentOrder() throws {
        let plan = try ScriptPlan.full(listing: seedListing, own: [Seed.provisioner], answer: Seed.dependentAnswer())
        let expected: [ScriptRef] = [
            ScriptRef(phase: 0, script: "0-etchosts.sh", arguments: ["10.0.3.1", "foo", "foo.bar.com"]),
            ScriptRef(phase: 0, script: "0-etchosts.sh", arguments: Seed.arguments(Seed.provisioner)),
            ScriptRef(phase: 0, script: "0-etchosts.sh", arguments: Seed.arguments(Seed.scheduler)),
            ScriptRef(phase: 0, script: "0-etchosts.sh", arguments: Seed.arguments(Seed.aggregator)),
            ScriptRef(phase: 0, script: "built-in/hosts"),
            ScriptRef(phase: 1, script: "1-ipandhost/rabbitmq-head", arguments: ["10.0.3.1", "foo", "foo.bar.com"]),
            ScriptRef(phase: 2, script: "2-thishost/publicnic", arguments: ["10.0.3.2", "provisioner-0", "provisioner-0.ctx.muster.local"]),
            ScriptRef(phase: 4, script: "4-restarts/rabbitmq-head"),
            ScriptRef(phase: 5, script: "5-thishost-finalize/publicnic", arguments: ["10.0.3.2", "provisioner-0", "provisioner-0.ctx.muster.local"]),
        ]
        #expect(plan.steps.map(\.reference) == expected)
        #expect(plan.skipped.isEmpty)
    }

    @Test("the built-in step lists every known host in etc/hosts and trusts their keys as fqdn,ip and short,ip")
    func seedHostFiles() throws {
        let plan = try ScriptPlan.full(listing: .empty, own: [Seed.provisioner], answer: Seed.dependentAnswer())
        guard case .hostFiles(let files) = try #require(plan.steps.first) else {
            Issue.record("the first step is not the built-in one")
            return
        }
        #expect(files.hosts.first == "10.0.3.1 foo.bar.com foo")
        #expect(files.hosts.count == 4)
        #expect(files.hostsEquiv.prefix(2) == ["foo.bar.com", "foo"])
        #expect(
            files.knownHosts.prefix(2) == [
                "foo.bar.com,10.0.3.1 \(Seed.keyField("head"))",
                "foo,10.0.3.1 \(Seed.keyField("head"))",
            ]
        )
        #expect(files.knownHosts.count == 8)
    }

    @Test("a node that requires only the role knows the provider and itself")
    func roleOnlyKnownHosts() throws {
        var answer = Seed.dependentAnswer()
        answer.identities = []
        let plan = try ScriptPlan.full(listing: seedListing, own: [Seed.provisioner], answer: answer)
        #expect(
            plan.scripts.filter { $0.phase == 0 }.map(\.arguments) == [Seed.arguments(Seed.head), Seed.arguments(Seed.provisioner)]
        )
    }

    @Test("a multi-NIC node runs 2-thishost and 5-thishost-finalize once per NIC with that NIC's identity")
    func multiNIC() throws {
        let publicNIC = Identity(interface: "publicnic", ip: "192.0.2.7", hostname: "n.example.org", pubkey: Seed.key("n"))
        let privateNIC = Identity(interface: "localnic", ip: "10.1.0.7", hostname: "n.internal", pubkey: Seed.key("n"))
        let listing = ScriptListing(files: [
            "0-etchosts.sh", "2-thishost/publicnic", "2-thishost/localnic", "5-thishost-finalize/publicnic", "5-thishost-finalize/localnic",
        ])
        let answer = NodeAnswer(version: 1, identities: [], roles: [], data: [])
        let plan = try ScriptPlan.full(listing: listing, own: [publicNIC, privateNIC], answer: answer)
        #expect(
            plan.scripts.map(\.key) == [
                ScriptRef(phase: 0, script: "0-etchosts.sh", arguments: ["192.0.2.7", "n", "n.example.org"]),
                ScriptRef(phase: 0, script: "0-etchosts.sh", arguments: ["10.1.0.7", "n", "n.internal"]),
                ScriptRef(phase: 2, script: "2-thishost/publicnic", arguments: ["192.0.2.7", "n", "n.example.org"]),
                ScriptRef(phase: 2, script: "2-thishost/localnic", arguments: ["10.1.0.7", "n", "n.internal"]),
                ScriptRef(phase: 5, script: "5-thishost-finalize/publicnic", arguments: ["192.0.2.7", "n", "n.example.org"]),
                ScriptRef(phase: 5, script: "5-thishost-finalize/localnic", arguments: ["10.1.0.7", "n", "n.internal"]),
            ]
        )
    }

    @Test("missing scripts are skipped and listed, the built-in step stays")
    func missingScriptsSkipped() throws {
        let listing = ScriptListing(files: ["1-ipandhost/rabbitmq-head"])
        let plan = try ScriptPlan.full(listing: listing, own: [Seed.provisioner], answer: Seed.dependentAnswer())
        #expect(plan.steps.map(\.reference.script) == ["built-in/hosts", "1-ipandhost/rabbitmq-head"])
        #expect(
            plan.skipped.map(\.script) == [
                "0-etchosts.sh", "0-etchosts.sh", "0-etchosts.sh", "0-etchosts.sh", "2-thishost/publicnic", "4-restarts/rabbitmq-head",
                "5-thishost-finalize/publicnic",
            ]
        )
    }

    @Test("a data value without any 3-data folder is a configuration error (code 2)")
    func dataWithoutFolder() {
        let answer = Seed.dependentAnswer(data: [DataSpec(name: "foo", value: "bar")])
        #expect(throws: AgentError.self) { try ScriptPlan.full(listing: seedListing, own: [Seed.provisioner], answer: answer) }
        do {
            _ = try ScriptPlan.full(listing: seedListing, own: [Seed.provisioner], answer: answer)
        } catch {
            #expect(error.code == NodeExitCode.configuration)
            #expect(error.message.contains("\"foo\""))
            #expect(!error.message.contains("bar"))
        }
    }

    @Test("a data value runs 3-data/<name> with its value file; one without a script of its own is skipped")
    func dataSteps() throws {
        let listing = ScriptListing(files: ["3-data/foo"], folders: ["3-data"])
        let answer = Seed.dependentAnswer(data: [DataSpec(name: "foo", value: "s3cr3t"), DataSpec(name: "other", value: "x")])
        let plan = try ScriptPlan.full(listing: listing, own: [Seed.provisioner], answer: answer)
        #expect(plan.scripts.map(\.key) == [ScriptRef(phase: 3, script: "3-data/foo")])
        #expect(plan.scripts.first?.data == DataValue(name: "foo", value: "s3cr3t"))
        #expect(plan.skipped.contains(ScriptRef(phase: 3, script: "3-data/other")))
        #expect(!"\(plan)".contains("s3cr3t") && !String(reflecting: plan).contains("s3cr3t"))
    }

    @Test("an empty 3-data folder is enough for data values: their scripts are skipped")
    func emptyDataFolder() throws {
        let listing = ScriptListing(folders: ["3-data"])
        let plan = try ScriptPlan.full(listing: listing, own: [], answer: Seed.dependentAnswer(data: [DataSpec(name: "foo", value: "bar")]))
        #expect(plan.scripts.isEmpty)
    }

    @Test("1-ipandhost runs once per provider; 4-restarts once per role, without arguments")
    func rolesAndRestarts() throws {
        let slaves = (1...3).map {
            Identity(interface: "publicnic", ip: "10.0.4.\($0)", hostname: "slave-\($0).example.org", pubkey: Seed.key("s\($0)"))
        }
        let answer = NodeAnswer(
            version: 1,
            identities: [],
            roles: [
                RoleAnswer(
                    role: "torqueslave",
                    hostname: true,
                    pubkey: true,
                    providers: slaves.map { RoleAnswer.Provider(node: $0.shortName, identity: $0) }
                ),
                RoleAnswer(role: "nfs", hostname: true, pubkey: false, providers: [RoleAnswer.Provider(node: "slave-1", identity: slaves[0])]),
            ],
            data: []
        )
        let listing = ScriptListing(files: ["1-ipandhost/torqueslave", "1-ipandhost/nfs", "4-restarts/torqueslave", "4-restarts/nfs"])
        let plan = try ScriptPlan.full(listing: listing, own: [], answer: answer)
        #expect(
            plan.scripts.map(\.key) == slaves.map { ScriptRef(phase: 1, script: "1-ipandhost/torqueslave", arguments: Seed.arguments($0)) } + [
                ScriptRef(phase: 1, script: "1-ipandhost/nfs", arguments: Seed.arguments(slaves[0])),
                ScriptRef(phase: 4, script: "4-restarts/torqueslave"),
                ScriptRef(phase: 4, script: "4-restarts/nfs"),
            ]
        )
    }

    @Test("a provider of a role without hostname and pubkey is not listed in etc/hosts and its key is not trusted")
    func roleFlags() throws {
        var answer = Seed.dependentAnswer()
        answer.identities = []
        answer.roles[0].hostname = false
        answer.roles[0].pubkey = false
        let plan = try ScriptPlan.full(listing: .empty, own: [Seed.provisioner], answer: answer)
        guard case .hostFiles(let files) = plan.steps[0] else {
            Issue.record("no built-in step")
            return
        }
        #expect(files.hosts == ["10.0.3.2 provisioner-0.ctx.muster.local provisioner-0"])
        #expect(!files.knownHosts.contains { $0.contains("10.0.3.1") })
        #expect(!files.hostsEquiv.contains("foo"))
    }

    @Test("role, NIC and data names that would leave their phase folder are never run")
    func unsafeNames() throws {
        let evil = Identity(interface: "..", ip: "10.9.9.9", hostname: "e.example.org", pubkey: "")
        let answer = NodeAnswer(
            version: 1,
            identities: [],
            roles: [RoleAnswer(role: "../0-etchosts.sh", hostname: true, pubkey: true, providers: [RoleAnswer.Provider(node: "e", identity: evil)])],
            data: []
        )
        let listing = ScriptListing(files: ["0-etchosts.sh", "1-ipandhost/x"])
        let plan = try ScriptPlan.full(listing: listing, own: [evil], answer: answer)
        #expect(plan.scripts.allSatisfy { $0.script == "0-etchosts.sh" && $0.phase == 0 })
    }

    @Test("a late joiner: only the new provider's 1-ipandhost runs, after 0-etchosts for it and the host-file refresh")
    func incrementalLateJoiner() {
        let old = Seed.dependentAnswer()
        var new = Seed.dependentAnswer(version: 2)
        let second = Identity(interface: "publicnic", ip: "10.0.3.9", hostname: "head2.bar.com", pubkey: Seed.key("head2"))
        new.roles[0].providers.append(RoleAnswer.Provider(node: "rabbitmq-head-1", identity: second))
        new.identities.append(NodeIdentities(node: "rabbitmq-head-1", identities: [second]))
        let plan = ScriptPlan.incremental(listing: seedListing, own: [Seed.provisioner], from: old, to: new)
        #expect(
            plan.steps.map(\.reference) == [
                ScriptRef(phase: 0, script: "0-etchosts.sh", arguments: ["10.0.3.9", "head2", "head2.bar.com"]),
                ScriptRef(phase: 0, script: "built-in/hosts"),
                ScriptRef(phase: 1, script: "1-ipandhost/rabbitmq-head", arguments: ["10.0.3.9", "head2", "head2.bar.com"]),
            ]
        )
        guard case .hostFiles(let files) = plan.steps[1] else {
            Issue.record("no built-in step")
            return
        }
        #expect(files.hosts.contains("10.0.3.1 foo.bar.com foo"))
        #expect(files.hosts.contains("10.0.3.9 head2.bar.com head2"))
        #expect(files.knownHosts.contains("head2.bar.com,10.0.3.9 \(Seed.keyField("head2"))"))
    }

    @Test("a provider that came back with a new address counts as new; an unchanged answer only refreshes the files")
    func incrementalChangedAndUnchanged() {
        let old = Seed.dependentAnswer()
        var moved = Seed.dependentAnswer(version: 2)
        moved.roles[0].providers[0].identity.ip = "10.0.3.100"
        #expect(
            ScriptPlan.incremental(listing: seedListing, own: [Seed.provisioner], from: old, to: moved).scripts.map(\.key).filter { $0.phase == 1 }
                == [
                    ScriptRef(phase: 1, script: "1-ipandhost/rabbitmq-head", arguments: ["10.0.3.100", "foo", "foo.bar.com"])
                ]
        )
        let same = ScriptPlan.incremental(listing: seedListing, own: [Seed.provisioner], from: old, to: Seed.dependentAnswer(version: 2))
        #expect(same.steps.map(\.reference.script) == ["built-in/hosts"])
    }
}
