import Foundation
import MusterAgent
import MusterCore
import Testing

/// An answer from a broker that did not validate identities (one from before the rule, or a compromised one): the
/// agent checks every identity again and writes nothing of an invalid one.
@Suite("Identities screened before host files are written", .timeLimit(.minutes(5)))
struct IdentityScreeningTests {
    typealias Seed = SeedCluster

    /// Identities seen in the wild, each of which would own the requirers' trust files.
    static let hostile: [(node: String, identity: Identity)] = [
        ("plus-0", Identity(interface: "publicnic", ip: "10.6.0.1", hostname: "+", pubkey: Seed.key("plus"))),
        ("star-0", Identity(interface: "publicnic", ip: "10.6.0.2", hostname: "*", pubkey: Seed.key("star"))),
        ("wild-0", Identity(interface: "publicnic", ip: "10.6.0.3", hostname: "*.example.org", pubkey: Seed.key("wild"))),
        (
            "newline-0",
            Identity(interface: "publicnic", ip: "10.6.0.4\n6.6.6.6 victim.example.com", hostname: "n.example.org", pubkey: Seed.key("nl"))
        ),
        ("nul-0", Identity(interface: "publicnic", ip: "10.6.0.5", hostname: "a\u{0}b.example.org", pubkey: Seed.key("nul"))),
        (
            "ca-0",
            Identity(
                interface: "publicnic",
                ip: "10.6.0.6",
                hostname: "ca.example.org",
                pubkey: "@cert-authority * \(Seed.keyField("ca"))"
            )
        ),
    ]

    /// The seed's dependent answer, with every hostile identity shared as a node identity and as a provider of the
    /// role it requires.
    static func hostileAnswer() -> NodeAnswer {
        var answer = Seed.dependentAnswer()
        for (node, identity) in hostile {
            answer.identities.append(NodeIdentities(node: node, identities: [identity]))
            answer.roles[0].providers.append(RoleAnswer.Provider(node: node, identity: identity))
        }
        return answer
    }

    @Test func `no host file line and no script comes from an invalid identity, and each is named once in a note`() throws {
        let listing = ScriptListing(files: ["0-etchosts.sh", "1-ipandhost/rabbitmq-head"])
        let plan = try ScriptPlan.full(listing: listing, own: [Seed.provisioner], answer: Self.hostileAnswer())
        guard case .hostFiles(let files) = try #require(plan.steps.first { $0.reference.script == PlanStep.hostFilesScript }) else {
            Issue.record("no built-in step")
            return
        }
        let valid = [Seed.head, Seed.provisioner, Seed.scheduler, Seed.aggregator]
        #expect(files.hosts.count == valid.count)
        #expect(files.knownHosts.count == 2 * valid.count)
        for (_, identity) in Self.hostile {
            for line in files.hosts + files.hostsEquiv + files.knownHosts {
                let names = line.split { $0 == " " || $0 == "," }
                #expect(!line.contains(identity.ip) && !names.contains(Substring(identity.hostname)), "\(line)")
            }
        }
        #expect(files.notes.count == Self.hostile.count)
        for (node, _) in Self.hostile {
            #expect(files.notes.filter { $0.contains("node '\(node)'") }.count == 1, "\(files.notes)")
        }
        #expect(plan.scripts.filter { $0.phase == 0 }.map(\.arguments) == valid.map(Seed.arguments))
        #expect(plan.scripts.filter { $0.phase == 1 }.map(\.arguments) == [Seed.arguments(Seed.head)])
    }

    @Test func `the files under the node root hold no newline entry, NUL, +, * or @cert-authority, and the output says what was left out`()
        async throws
    {
        try await TemporaryNode.with { node in
            try node.script("0-etchosts.sh", appendingScript("etchosts.log"))
            let reporter = RecordingReporter()
            let answer = Self.hostileAnswer()
            let plan = try ScriptPlan.full(listing: ScriptListing.read(from: node.scripts), own: [Seed.provisioner], answer: answer)
            #expect(try await node.phases(reporter).run(plan, outputIndex: 0).result == .ok)
            for file in ["etc/hosts", "etc/hosts.equiv", "etc/ssh/ssh_known_hosts"] {
                let text = try #require(node.text(file))
                #expect(!text.contains("\u{0}"), "\(file) holds a NUL")
                #expect(!text.contains("*"), "\(file) holds a pattern")
                #expect(!text.contains("6.6.6.6"), "\(file) holds an injected entry")
                let lines = text.split(separator: "\n")
                #expect(!lines.contains { $0.hasPrefix("+") || $0.hasPrefix("@") }, "\(file): \(text)")
                #expect(!lines.contains { $0.contains("10.6.0.") }, "\(file): \(text)")
            }
            #expect(node.lines("etchosts.log").count == 4, "0-etchosts.sh ran only for the valid hosts")
            let notes = reporter.lines.filter { $0.text.hasPrefix("left out an identity") }
            #expect(notes.count == Self.hostile.count)
            #expect(notes.allSatisfy { $0.stream == .agent && $0.script == PlanStep.hostFilesScript })
            let nul = try #require(notes.first { $0.text.contains("node 'nul-0'") })
            #expect(nul.text.contains("host name") && nul.text.contains("\\x00") && !nul.text.contains("\u{0}"), "\(nul.text)")
        }
    }
}
