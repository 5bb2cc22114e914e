import Foundation
import Testing

/// What a node's scripts can find of the operator's credentials on the local launcher: a hostile ctx-script looks
/// where one would — its environment, its root, the folders above it, the state folder by its absolute path, and
/// every process it can see in `/proc` (environment, working folder, root, open files) — and finds nothing.
@Suite("A node's scripts and the operator's credentials")
struct NodeIsolationTests {
    /// A script that looks for the broker's state and the operator's secrets, prints `LEAK: …` for each it can read
    /// (and lists them in `probe-leaks` in its root) and fails (9); when it found nothing it writes `probe-result`.
    static func probe(state: String) -> String {
        """
        state='\(state)'
        found=0
        leak() { echo "LEAK: $*"; echo "$*" >> "$MUSTER_ROOT/probe-leaks"; found=9; }
        # (Patterns are written so that this script does not match itself.)
        if env | grep -q -e 'mst_op[_]' -e '^MUSTER_TOKEN=' -e 'operator-aws-secre[t]'; then leak "the environment"; fi
        for dir in "$MUSTER_ROOT" "$MUSTER_ROOT/.." "$MUSTER_ROOT/../.." "$MUSTER_ROOT/../../.." "$MUSTER_ROOT/../../../.." "$state"; do
          for name in operator-token state.sqlite muster.log broker.lock tls/ca-key.pem tls/server-key.pem; do
            if head -c 1 "$dir/$name" >/dev/null 2>&1; then leak "read $dir/$name"; fi
          done
          if ls -a "$dir" 2>/dev/null | grep -q -e '^operator-token$' -e '^state.sqlite$'; then leak "listed $dir"; fi
        done
        for proc in /proc/[0-9]*; do
          if grep -qa -e 'mst_op[_]' -e 'operator-aws-secre[t]' "$proc/environ" 2>/dev/null; then leak "$proc/environ"; fi
          if head -c 1 "$proc/cwd/operator-token" >/dev/null 2>&1; then leak "$proc/cwd/operator-token"; fi
          if head -c 1 "$proc/root$state/operator-token" >/dev/null 2>&1; then leak "$proc/root$state/operator-token"; fi
          for fd in "$proc"/fd/*; do
            case "$(readlink "$fd" 2>/dev/null)" in
              *state.sqlite*|*operator-token*|*muster.log*) if head -c 1 "$fd" >/dev/null 2>&1; then leak "$fd"; fi ;;
            esac
          done
        done
        if grep -rqs -e 'mst_op[_]' -e 'operator-aws-secre[t]' "$MUSTER_ROOT"; then leak "under the root"; fi
        test "$(stat -c %a "$MUSTER_ROOT")" = 700 || leak "root mode $(stat -c %a "$MUSTER_ROOT")"
        # The script can still do its work: write its root, read its own userdata.
        head -c 1 "$MUSTER_ROOT/.muster/userdata.json" >/dev/null || { echo "cannot read its own userdata"; exit 7; }
        if [ $found = 0 ]; then echo "nothing of the operator here" > "$MUSTER_ROOT/probe-result"; fi
        exit $found
        """
    }

    static let cluster = """
        <cluster><workspace><name>probe</name><image>probe</image><quantity>1</quantity><nic>public</nic>
        <ctx><provides><identity/></provides></ctx></workspace></cluster>
        """

    /// Runs the probe on one node with `--isolation how`; the operator's environment holds secrets, and the
    /// operator token is minted into the state folder.
    static func run(isolation how: String) async throws -> (result: CommandRunner.Result, state: String) {
        let state = workFolder("isolation-\(how)")
        let folder = try UpCommandTests.makeExample(cluster, scripts: ["probe/ctx-scripts/2-thishost/publicnic": probe(state: state)])
        let result = try await CommandRunner.muster(
            ["up", folder + "/cluster.xml", "--headless", "--state", state, "--isolation", how],
            environment: ["AWS_SECRET_ACCESS_KEY": "operator-aws-secret", "OPERATOR_SECRET": "operator-aws-secret"]
        )
        return (result, state)
    }

    static func probeResults(_ state: String) -> [String] {
        let contexts = (try? FileManager.default.contentsOfDirectory(atPath: state)) ?? []
        return contexts.compactMap { try? String(contentsOfFile: "\(state)/\($0)/nodes/probe-0/probe-result", encoding: .utf8) }
    }

    /// What the probe found, one line each.
    static func leaks(_ state: String) -> [String] {
        let contexts = (try? FileManager.default.contentsOfDirectory(atPath: state)) ?? []
        return contexts.flatMap { UpCommandTests.read("\(state)/\($0)/nodes/probe-0/probe-leaks").split(separator: "\n").map(String.init) }
    }

    @Test(
        "a hostile ctx-script finds no operator credential",
        .enabled(if: geteuid() == 0, "separate node users need root"),
        arguments: ["users"]
    )
    func separateUsers(_ how: String) async throws {
        try await expectNothingFound(how)
    }

    @Test(
        "a hostile ctx-script in namespaces finds no operator credential",
        .enabled(if: Self.namespacesWork, "user namespaces are not available here"),
        arguments: ["namespaces"]
    )
    func namespaces(_ how: String) async throws {
        try await expectNothingFound(how)
    }

    private func expectNothingFound(_ how: String) async throws {
        let (result, state) = try await Self.run(isolation: how)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(Self.leaks(state).isEmpty, "\(Self.leaks(state).prefix(20))")
        #expect(result.stdout.contains("complete, all ok, 1/1 ok"), "\(result.stdout)")
        #expect(!result.stderr.contains("not isolated"), "\(result.stderr)")
        // The script did run, and looked.
        #expect(Self.probeResults(state) == ["nothing of the operator here\n"])
        // The token it was looking for was there to be found.
        #expect(FileManager.default.fileExists(atPath: state + "/operator-token"))
    }

    @Test func `without isolation up says so once, and the same probe finds the operator's state`() async throws {
        let (result, state) = try await Self.run(isolation: "none")
        let warnings = result.stderr.components(separatedBy: "local nodes are not isolated").count - 1
        #expect(warnings == 1, "\(result.stderr)")
        // The probe is able to fail: as the operator's own user (root here) it reads the state folder.
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(Self.leaks(state).contains("read \(state)/operator-token"), "\(Self.leaks(state).prefix(20))")
        #expect(Self.probeResults(state).isEmpty)
    }

    /// Whether this machine lets a process make user, mount and PID namespaces (CI containers may not).
    static let namespacesWork: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["--user", "--map-root-user", "--mount", "--pid", "--fork", "--mount-proc", "true"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()
}
