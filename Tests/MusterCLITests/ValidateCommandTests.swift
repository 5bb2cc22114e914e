import Foundation
import Testing

@Suite("muster validate and muster plan")
struct ValidateCommandTests {
    static let fixtures = CommandRunner.repository.appendingPathComponent("Tests/MusterCoreTests/Fixtures/nimbus")

    static var fixturePaths: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []).filter { $0.hasSuffix(".xml") }.sorted().map {
            fixtures.appendingPathComponent($0).path
        }
    }

    @Test func `validate exits 0 on every Nimbus fixture`() async throws {
        let result = try await CommandRunner.muster(["validate"] + Self.fixturePaths)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.components(separatedBy: ": valid,").count - 1 == Self.fixturePaths.count)
    }

    @Test func `validate prints the one right diagnostic for a missing role and exits 65`() async throws {
        let path = try CommandRunner.temporaryFile(
            named: "missing-role.xml",
            """
            <cluster>
              <workspace><name>a</name><image>i</image><quantity>1</quantity><nic>public</nic>
                <ctx><requires><role name="ghost"/></requires></ctx></workspace>
            </cluster>
            """
        )
        let result = try await CommandRunner.muster(["validate", path])
        #expect(result.status == 65)
        let diagnostics = result.stdout.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(
            diagnostics == [
                "\(path):3:32: error: workspace 'a' requires role 'ghost', which no workspace provides; add <role>ghost</role> to the <provides> of the workspace that plays it"
            ]
        )
    }

    @Test func `validate reports a bad quantity at its line and column`() async throws {
        let path = try CommandRunner.temporaryFile(
            named: "quantity.xml",
            "<cluster>\n  <workspace><name>a</name><image>i</image>\n    <quantity>-3</quantity><nic>public</nic>\n    <ctx><provides><identity/></provides></ctx></workspace>\n</cluster>\n"
        )
        let result = try await CommandRunner.muster(["validate", path])
        #expect(result.status == 65)
        #expect(result.stdout.hasPrefix("\(path):3:15: error: quantity '-3' of workspace 'a' is not a whole number of at least 1\n"))
        // The source line and a caret under the column follow the diagnostic.
        #expect(result.stdout.contains("\n        <quantity>-3</quantity><nic>public</nic>\n                  ^\n"))
    }

    @Test func `validate reports a syntax error at its line and column`() async throws {
        let path = try CommandRunner.temporaryFile(named: "syntax.xml", "<cluster>\n  <workspace>\n    <name>a</nam>\n  </workspace>\n</cluster>\n")
        let result = try await CommandRunner.muster(["validate", path])
        #expect(result.status == 65)
        #expect(result.stdout.hasPrefix("\(path):3:12: error: end tag </nam> does not match the open element <name>"))
    }

    @Test func `validate --json lists every file's diagnostics`() async throws {
        let bad = try CommandRunner.temporaryFile(named: "bad.xml", "<cluster><workspace><name>a</name></workspace></cluster>")
        let result = try await CommandRunner.muster(["validate", "--json", Self.fixturePaths[0], bad])
        #expect(result.status == 65)
        struct Report: Decodable {
            struct File: Decodable {
                var file: String
                var valid: Bool
                var diagnostics: [Entry]
            }
            struct Entry: Decodable {
                var severity: String
                var code: String
                var line: Int
                var column: Int
            }
            var valid: Bool
            var files: [File]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        #expect(!report.valid)
        #expect(report.files.map(\.valid) == [true, false])
        #expect(report.files[1].diagnostics.map(\.code) == ["missing-image", "missing-quantity", "missing-nic", "missing-ctx"])
        #expect(report.files[1].diagnostics.allSatisfy { $0.line == 1 && $0.column == 10 && $0.severity == "error" })
    }

    @Test func `validate names the NICs of the Nimbus samples as Nimbus does`() async throws {
        let ec2 = Self.fixtures.appendingPathComponent("ec2basecluster.xml").path
        let base = Self.fixtures.appendingPathComponent("base-cluster.xml").path
        let result = try await CommandRunner.muster(["validate", ec2, base])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("\(ec2): valid, 2 workspaces, 3 nodes, NICs publicnic, localnic\n"))
        #expect(result.stdout.contains("\(base): valid, 2 workspaces, 3 nodes, NICs publicnic\n"))
        let json = try await CommandRunner.muster(["validate", "--json", ec2])
        struct Report: Decodable {
            struct File: Decodable { var nics: [String]? }
            var files: [File]
        }
        #expect(try JSONDecoder().decode(Report.self, from: Data(json.stdout.utf8)).files.map(\.nics) == [["publicnic", "localnic"]])
    }

    @Test func `validate rejects two unnamed NICs at their lines`() async throws {
        let path = try CommandRunner.temporaryFile(
            named: "two-nics.xml",
            "<cluster>\n  <workspace><name>a</name><image>i</image><quantity>1</quantity>\n    <nic>public</nic>\n    <nic>private</nic>\n"
                + "    <ctx><provides><identity/></provides></ctx></workspace>\n</cluster>\n"
        )
        let result = try await CommandRunner.muster(["validate", path])
        #expect(result.status == 65)
        let errors = result.stdout.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(errors.count == 2)
        #expect(errors.first?.hasPrefix("\(path):3:5: error: workspace 'a' has 2 NICs, so each needs a name") == true)
        #expect(errors.last?.hasPrefix("\(path):4:5: error:") == true)
    }

    @Test func `validate exits 66 for a file that does not exist`() async throws {
        let result = try await CommandRunner.muster(["validate", "/nonexistent/cluster.xml"])
        #expect(result.status == 66)
        #expect(result.stderr.contains("cannot read /nonexistent/cluster.xml: no such file"))
    }

    @Test func `validate reads standard input`() async throws {
        let document = try String(contentsOf: CommandRunner.repository.appendingPathComponent("Examples/cpe/cluster.xml"), encoding: .utf8)
        let result = try await CommandRunner.muster(["validate", "-"], stdin: document)
        #expect(result.status == 0)
        #expect(result.stdout.contains("<stdin>: valid, 4 workspaces, 4 nodes"))
    }

    @Test func `plan shows the seed's dependents waiting on rabbitmq-head`() async throws {
        let result = try await CommandRunner.muster(["plan", "Examples/cpe/cluster.xml"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("  rabbitmq-head-0") && $0.hasSuffix("released as soon as it checks in") })
        for dependent in ["provisioner-0", "scheduler-0", "aggregator-0"] {
            let line = try #require(lines.first { $0.hasPrefix("  \(dependent)") })
            #expect(line.contains("rabbitmq-head registered (rabbitmq-head-0)"))
            #expect(line.contains("every identity (4 nodes)"))
        }
    }

    @Test func `plan --json gives each node's waits`() async throws {
        let result = try await CommandRunner.muster(["plan", "--json", "Examples/cpe/cluster.xml"])
        #expect(result.status == 0)
        struct Plan: Decodable {
            struct Workspace: Decodable {
                var name: String
                var nodes: [Node]
            }
            struct Node: Decodable {
                var name: String
                var waitsOn: [Wait]
            }
            struct Wait: Decodable {
                var role: String?
                var wait: String
                var nodes: [String]
            }
            var workspaces: [Workspace]
        }
        let plan = try JSONDecoder().decode(Plan.self, from: Data(result.stdout.utf8))
        #expect(plan.workspaces.map(\.name) == ["rabbitmq-head", "provisioner", "scheduler", "aggregator"])
        #expect(plan.workspaces[0].nodes[0].waitsOn.isEmpty)
        let roleWait = try #require(plan.workspaces[1].nodes[0].waitsOn.first { $0.role == "rabbitmq-head" })
        #expect(roleWait.nodes == ["rabbitmq-head-0"])
        #expect(roleWait.wait == "registered")
    }

    @Test func `plan of an invalid document prints its diagnostics and exits 65`() async throws {
        let path = try CommandRunner.temporaryFile(named: "p.xml", "<cluster/>")
        let result = try await CommandRunner.muster(["plan", path])
        #expect(result.status == 65)
        #expect(result.stderr.contains("\(path):1:1: error: the cluster has no <workspace>"))
    }

    @Test func `every command explains itself with an example`() async throws {
        for command in ["validate", "plan"] {
            let result = try await CommandRunner.muster([command, "--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("Examples:"))
            #expect(result.stdout.contains("muster \(command) "))
        }
    }
}

@Suite("muster ec2script")
struct EC2ScriptCommandTests {
    @Test func `ec2script writes one userdata script per node, holding only its token, and a run-instances per node, running nothing`() async throws {
        let state = workFolder("ec2")
        let broker = try BackgroundCommand(["broker", "--listen", "127.0.0.1:0", "--state", state])
        await broker.waitFor("listening on")
        let output = state + "/out"
        let result = try await CommandRunner.muster([
            "ec2script", "Examples/torque/cluster.xml", "--output", output, "--state", state, "--key-name", "ops",
        ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: output).sorted()
        #expect(files.contains("ec2-launch.sh"))
        let userdataFiles = files.filter { $0.hasPrefix("userdata-") }
        #expect(userdataFiles.count == 4, "one per node, no bundle: \(files)")
        let script = try String(contentsOfFile: output + "/ec2-launch.sh", encoding: .utf8)
        #expect(script.components(separatedBy: "aws ec2 run-instances").count == 5, "one per node")
        #expect(script.components(separatedBy: "--count 1").count == 5)
        #expect(script.contains("describe-images --filters 'Name=name,Values=torque.gz'"), "an AMI name is looked up when the script runs")
        #expect(script.contains("--key-name ops"))
        #expect(script.contains("--instance-initiated-shutdown-behavior terminate"))
        #expect(script.contains("--user-data file://userdata-compute-nodes-2.sh"))
        #expect(script.contains("{Key=muster:node,Value=compute-nodes-2}"))
        var tokens: [String: String] = [:]
        for file in userdataFiles {
            let permissions = try FileManager.default.attributesOfItem(atPath: output + "/" + file)[.posixPermissions] as? Int
            #expect(permissions == 0o600, "\(file) is readable by its owner only")
            let text = try String(contentsOfFile: output + "/" + file, encoding: .utf8)
            #expect(text.hasPrefix("#!/bin/sh"))
            let found = text.components(separatedBy: "mst_node_").dropFirst().map {
                "mst_node_" + $0.prefix { $0.isLetter || $0.isNumber || "-_".contains($0) }
            }
            #expect(Set(found).count == 1, "\(file) holds exactly one node token")
            tokens[file] = found.first
        }
        #expect(Set(tokens.values).count == 4, "every node has its own token")
        // Nothing was launched: every node is pending on the broker.
        let status = try await CommandRunner.muster(["status", "--state", state])
        #expect(status.stdout.contains("torque-"))
        let json = try await CommandRunner.muster(["status", "--json", "--state", state])
        #expect(json.stdout.contains("\"pending\" : 4"))
        // The table says who launches the nodes, as the JSON does.
        let listed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let launcher = try #require((listed?["contexts"] as? [[String: Any]])?.first?["launcher"] as? String)
        let lines = status.stdout.split(separator: "\n")
        #expect(lines.first { $0.hasPrefix("CONTEXT") }?.contains("LAUNCHER") == true, "\(status.stdout)")
        #expect(lines.contains { $0.contains("torque-") && $0.contains(launcher) }, "the row names the launcher \(launcher): \(status.stdout)")
        await broker.stop()
    }
}
