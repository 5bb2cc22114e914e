import Foundation
import Testing

/// What a node's scripts can find of the operator's credentials on the local launcher: nothing in their
/// environment, nothing under their root.
@Suite("A node's scripts and the operator's credentials")
struct NodeIsolationTests {
    @Test func `a ctx-script finds no operator credential in its environment or under its root`() async throws {
        let state = workFolder("isolation-state")
        let token = "mst_op_isolation-\(UUID().uuidString.prefix(8))"
        // The script looks where a careless launcher would leave them: the environment (a MUSTER_TOKEN, AWS keys,
        // anything holding the operator token) and every file under its own root.
        let folder = try UpCommandTests.makeExample(
            """
            <cluster><workspace><name>probe</name><image>probe</image><quantity>1</quantity><nic>public</nic>
            <ctx><provides><identity/></provides></ctx></workspace></cluster>
            """,
            scripts: [
                "probe/ctx-scripts/2-thishost/publicnic": """
                if env | grep -q -e 'mst_op[_]' -e '^MUSTER_TOKEN=' -e '^AWS_SECRET_ACCESS_KEY=' -e '^OPERATOR_SECRET='; then
                  echo "LEAK in the environment: $(env | grep -e 'mst_op[_]' -e MUSTER_TOKEN -e AWS_SECRET -e OPERATOR_SECRET | cut -c1-20)"; exit 9
                fi
                # (The pattern is written so that this script does not match itself.)
                if grep -rqs -e 'mst_op[_]' -e 'operator-aws-secre[t]' "$MUSTER_ROOT"; then
                  echo "LEAK under the root: $(grep -rls -e 'mst_op[_]' -e 'operator-aws-secre[t]' "$MUSTER_ROOT")"; exit 9
                fi
                test "$(stat -c %a "$MUSTER_ROOT")" = 700 || { echo "root mode $(stat -c %a "$MUSTER_ROOT")"; exit 8; }
                echo "nothing of the operator here" > "$MUSTER_ROOT/probe-result"
                """
            ]
        )
        let result = try await CommandRunner.muster(
            ["up", folder + "/cluster.xml", "--headless", "--state", state],
            environment: ["MUSTER_TOKEN": token, "AWS_SECRET_ACCESS_KEY": "operator-aws-secret", "OPERATOR_SECRET": token]
        )
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("complete, all ok, 1/1 ok"), "\(result.stdout)")
        #expect(!result.stdout.contains("LEAK"), "\(result.stdout)")
        // The script did run, and looked.
        let contexts = try FileManager.default.contentsOfDirectory(atPath: state)
        let results = contexts.compactMap { try? String(contentsOfFile: "\(state)/\($0)/nodes/probe-0/probe-result", encoding: .utf8) }
        #expect(results == ["nothing of the operator here\n"], "contexts \(contexts)")
    }
}
