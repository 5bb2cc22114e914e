import Foundation
import MusterCore
import Testing

@Suite("The one name rule")
struct SafeNameTests {
    @Test(arguments: [
        "head-node", "compute-nodes", "torquemaster", "rabbitmq-head", "amqp-credentials", "publicnic", "localnic", "a", "A1",
        "base-cluster-cc12.gz", "ami-dea244b7", "ssh_key", "c++", "user@realm", "v1.2.3", String(repeating: "x", count: 128),
    ])
    func `ordinary names are accepted`(name: String) throws {
        #expect(SafeName.isValid(name))
        #expect(try SafeName(name).rawValue == name)
    }

    @Test(arguments: [
        ("", SafeNameError.Code.empty), (".", .badStart), ("..", .badStart), (".hidden", .badStart), ("-rf", .badStart),
        ("a/b", .badCharacter), ("../etc", .badStart), ("a b", .badCharacter), ("tab\tname", .badCharacter), ("nl\n", .badCharacter),
        ("nul\u{0}", .badCharacter), ("star*", .badCharacter), ("q?", .badCharacter), ("dollar$x", .badCharacter), ("back\\slash", .badCharacter),
        ("caf\u{E9}", .badCharacter), ("semi;colon", .badCharacter), ("colon:x", .badCharacter), ("x/", .badCharacter),
        (String(repeating: "x", count: 129), .tooLong),
    ])
    func `names that are not one safe path component are refused with the reason`(name: String, code: SafeNameError.Code) {
        #expect(!SafeName.isValid(name))
        #expect(SafeName.problem(in: name)?.code == code)
        #expect(SafeName(validating: name) == nil)
        #expect(throws: SafeNameError.self) { try SafeName(name) }
    }

    @Test func `a refusal message names the field and the character, with control characters made visible`() throws {
        let problem = try #require(SafeName.problem(in: "evil\u{1b}[2Jname"))
        let message = problem.message(for: "role name")
        #expect(message.hasPrefix("role name 'evil\\x1b[2Jname' contains a control character"))
        #expect(!message.contains("\u{1b}"))
        #expect(try #require(SafeName.problem(in: "a/b")).message(for: "NIC name").contains("contains '/'"))
    }

    @Test func `a safe name decodes from JSON only when it follows the rule`() throws {
        let good = try JSONDecoder().decode([SafeName].self, from: Data(#"["head-node"]"#.utf8))
        #expect(good.map(\.rawValue) == ["head-node"])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([SafeName].self, from: Data(#"["../x"]"#.utf8)) }
    }

    @Test func `every name in the Nimbus samples and the examples follows the rule`() throws {
        var documents = try Fixtures.nimbusDocuments.map { try Fixtures.nimbus($0) }
        for example in ["cpe", "torque", "failing"] { documents.append(try Fixtures.example("\(example)/cluster.xml")) }
        var checked = 0
        for bytes in documents {
            let document = try ClusterDocumentParser.document(from: bytes)
            for workspace in document.workspaces {
                var names = [workspace.name] + workspace.nics.map(\.label) + workspace.provides.roles.map(\.name)
                names += workspace.requires.roles.map(\.name) + workspace.requires.data.map(\.name)
                for name in names {
                    #expect(SafeName.isValid(name), "\(name)")
                    checked += 1
                }
            }
        }
        #expect(checked > 50)
    }
}
