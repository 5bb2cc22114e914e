import Foundation
import Testing

/// What `muster up --headless` says and writes while a context cannot finish by itself: `--timeout`, a readiness
/// wait on a failed provider, and a retry under `--keep`; and `muster logs --follow` across that retry.
@Suite("muster up, following a context that needs help")
struct UpFollowingTests {
    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// A provider `db` whose script fails until `FIXED=yes`, and an `app` that waits until `db` is ready.
    static let readinessCluster = """
        <cluster xmlns:muster="urn:muster:cluster:1">
          <workspace><name>db</name><image>db</image><quantity>1</quantity><nic>public</nic>
            <ctx><provides><identity/><role>db</role></provides></ctx></workspace>
          <workspace><name>app</name><image>app</image><quantity>1</quantity><nic>public</nic>
            <ctx><provides><identity/></provides><requires><role name="db" muster:wait="ready"/></requires></ctx></workspace>
        </cluster>
        """

    static let failingUntilFixed = """
        FIXED=no
        if [ "$FIXED" = yes ]; then echo "db is ready"; exit 0; fi
        echo "error: db is not configured" >&2
        exit 1
        """

    /// Changes `FIXED=no` to `FIXED=yes` in a script.
    static func fix(_ script: String) throws {
        try read(script).replacingOccurrences(of: "FIXED=no", with: "FIXED=yes").write(toFile: script, atomically: true, encoding: .utf8)
    }

    /// The names of the files in a context's `reports/`.
    static func reports(_ work: String) throws -> Set<String> {
        let context = try UpCommandTests.contextFolder(work)
        return Set((try? FileManager.default.contentsOfDirectory(atPath: context + "/reports")) ?? [])
    }

    @Test func `--timeout times out the unfinished nodes, writes CTX-ERR and exits 124`() async throws {
        let marker = "1000.\(Int.random(in: 100_000...999_999))"
        let example = try UpCommandTests.makeExample(
            """
            <cluster>
              <workspace><name>quick</name><image>quick</image><quantity>1</quantity><nic>public</nic>
                <ctx><provides><identity/></provides></ctx></workspace>
              <workspace><name>stuck</name><image>stuck</image><quantity>1</quantity><nic>public</nic>
                <ctx><provides><identity/></provides></ctx></workspace>
            </cluster>
            """,
            scripts: ["quick/ctx-scripts/2-thishost/publicnic": "echo done", "stuck/ctx-scripts/2-thishost/publicnic": "sleep \(marker)"]
        )
        let work = workFolder("deadline")
        let result = try await CommandRunner.muster(["up", example + "/cluster.xml", "--headless", "--work", work, "--timeout", "6"])
        #expect(result.status == 124, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("was not complete by the --timeout; its unfinished nodes timed out"), "\(result.stdout)")
        #expect(result.stdout.contains("stuck-0  timed-out"), "\(result.stdout)")
        let reports = try Self.reports(work)
        #expect(reports.contains("CTX-ERR.txt") && !reports.contains("CTX-OK.txt"), "\(reports)")
        #expect(reports.contains { $0.hasPrefix("ERROR-") && $0.hasSuffix("-stuck-0.txt") }, "\(reports)")
        let summary = Self.read(try UpCommandTests.contextFolder(work) + "/reports/CTX-ERR.txt")
        #expect(summary.contains("stuck-0  timed-out"), "\(summary)")
        #expect(summary.contains("complete: true  allOk: false"), "\(summary)")
        #expect(processes(mentioning: "sleep \(marker)").isEmpty, "the stuck script was stopped")
        #expect(processes(mentioning: work).isEmpty)
    }

    @Test func `a readiness wait on a failed provider is named with the retry that unblocks it, and the boot goes on after it`() async throws {
        let example = try UpCommandTests.makeExample(
            Self.readinessCluster,
            scripts: ["db/ctx-scripts/2-thishost/publicnic": Self.failingUntilFixed, "app/ctx-scripts/2-thishost/publicnic": "echo app up"]
        )
        let work = workFolder("blocked")
        let up = try BackgroundCommand(["up", example + "/cluster.xml", "--headless", "--work", work])
        await up.waitFor("cannot be released")
        let line = up.text.split(separator: "\n").first { $0.contains("cannot be released") }.map(String.init) ?? ""
        #expect(line.contains("app-0"), "\(line)")
        #expect(line.contains("cannot be released: waits on db (ready), but db-0 failed (exit 4); muster retry db-0 to go on"), "\(line)")
        #expect(up.process.isRunning, "a context that cannot complete by itself is not ended by muster up")
        try Self.fix(example + "/images/db/ctx-scripts/2-thishost/publicnic")
        let retry = try await CommandRunner.muster(["retry", "db-0", "--state", work])
        #expect(retry.status == 0, "\(retry.stdout)\(retry.stderr)")
        #expect(await up.wait() == 0, "after the retry every node is ok: \(up.text)")
        #expect(up.text.contains("complete, all ok, 2/2 ok"), "\(up.text)")
        #expect(up.text.components(separatedBy: "cannot be released").count == 2, "said once: \(up.text)")
    }

    @Test func `with --keep, a retry that ends ok rewrites reports: CTX-OK replaces CTX-ERR`() async throws {
        let example = try UpCommandTests.copyExample("failing")
        let work = workFolder("keep-reports")
        let up = try BackgroundCommand(["up", example + "/cluster.xml", "--headless", "--keep", "--work", work])
        await up.waitFor("--keep:")
        #expect(try Self.reports(work) == ["CTX-ERR.txt", "ERROR-4-app-0.txt", "OK-db-0.txt"])
        try Self.fix(example + "/images/app/ctx-scripts/2-thishost/publicnic")
        let retry = try await CommandRunner.muster(["retry", "app-0", "--state", work])
        #expect(retry.status == 0, "\(retry.stdout)\(retry.stderr)")
        // The follower prints the summary once the new reports are written.
        await up.waitFor("complete, all ok, 2/2 ok")
        #expect(try Self.reports(work) == ["CTX-OK.txt", "OK-app-0.txt", "OK-db-0.txt"])
        let report = Self.read(try UpCommandTests.contextFolder(work) + "/reports/OK-app-0.txt")
        #expect(report.contains("state: ok"), "\(report)")
        #expect(up.process.isRunning, "--keep goes on after the second completion")
        await up.stop()
        #expect(processes(mentioning: work).isEmpty)
    }

    @Test func `muster logs --follow follows a node into its retry`() async throws {
        let example = try UpCommandTests.copyExample("failing")
        let work = workFolder("follow-retry")
        let up = try BackgroundCommand(["up", example + "/cluster.xml", "--headless", "--keep", "--work", work])
        await up.waitFor("--keep:")
        let logs = try BackgroundCommand(["logs", "app-0", "--follow", "--state", work])
        await logs.waitFor("error: /etc/app/config.yaml is missing")
        try Self.fix(example + "/images/app/ctx-scripts/2-thishost/publicnic")
        let retry = try await CommandRunner.muster(["retry", "app-0", "--state", work])
        #expect(retry.status == 0, "\(retry.stdout)\(retry.stderr)")
        await logs.waitFor("configuration found")
        let text = logs.text
        let separator = try #require(text.range(of: "── attempt 2 of app-0 (retried) ──"), "\(text)")
        #expect(text.range(of: "error: /etc/app/config.yaml is missing")!.lowerBound < separator.lowerBound)
        #expect(text.range(of: "configuration found")!.lowerBound > separator.lowerBound)
        #expect(logs.process.isRunning, "--follow goes on after the retried node is ok")
        await logs.stop()
        await up.stop()
        #expect(processes(mentioning: work).isEmpty)
    }
}
