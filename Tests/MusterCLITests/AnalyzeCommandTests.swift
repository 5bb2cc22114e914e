import Foundation
import MusterCore
import Testing

@testable import muster

/// `muster analyze CONTEXT`: the critical chain and the slowest scripts, as text and as JSON.
@Suite("muster analyze")
struct AnalyzeCommandTests {
    static let created = Date(timeIntervalSince1970: 1_700_000_000)

    /// A two-step analysis: db-0 booted (0–5 s) and ran its scripts (5–20 s, the slowest `2-thishost/init-db`),
    /// web-0 waited for the role db (3–20 s) and then ran its scripts (20–25 s).
    static func analysis() -> AnalyzeCommand.Analysis {
        let slow = ScriptRun(
            script: ScriptRef(phase: 2, script: "2-thishost/init-db"),
            started: created.addingTimeInterval(6),
            finished: created.addingTimeInterval(20),
            exitCode: 0
        )
        let web = ScriptRun(
            script: ScriptRef(phase: 2, script: "2-thishost/start-web"),
            started: created.addingTimeInterval(21),
            finished: created.addingTimeInterval(25),
            exitCode: 4
        )
        func at(_ seconds: Double) -> Date { created.addingTimeInterval(seconds) }
        let links: [CriticalChain.Link] = [
            CriticalChain.Link(node: "db-0", kind: .boot, start: created, end: at(5)),
            CriticalChain.Link(node: "db-0", kind: .scripts, start: at(5), end: at(20), slowest: slow),
            CriticalChain.Link(node: "web-0", kind: .wait, start: at(3), end: at(20), label: "db", provider: "db-0"),
            CriticalChain.Link(node: "web-0", kind: .scripts, start: at(20), end: at(25), slowest: web),
        ]
        let chain = CriticalChain(links: links, end: at(25))
        return AnalyzeCommand.Analysis(
            context: "shop-1a2b",
            name: "shop",
            complete: true,
            allOk: false,
            seconds: 25,
            chain: chain,
            slowest: [
                .init(node: "db-0", phase: 2, script: "2-thishost/init-db", arguments: [], seconds: 14, exitCode: 0),
                .init(node: "web-0", phase: 2, script: "2-thishost/start-web", arguments: [], seconds: 4, exitCode: 4),
            ]
        )
    }

    @Test func `the text names each step of the chain with its start and length, then the slowest scripts`() throws {
        let text = AnalyzeCommand.render(Self.analysis(), createdAt: Self.created)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "critical chain of shop-1a2b (shop): complete with errors, the last node finished 25.000s after creation")
        let steps = Array(lines.dropFirst().prefix(4))
        #expect(
            steps[0].contains("@0.000s") && steps[0].contains("+5.000s") && steps[0].contains("db-0")
                && steps[0].hasSuffix("boot: launched → checked in")
        )
        #expect(steps[1].contains("@5.000s") && steps[1].contains("+15.000s") && steps[1].hasSuffix("scripts, slowest 2-thishost/init-db (14.000s)"))
        #expect(
            steps[2].contains("@3.000s") && steps[2].contains("+17.000s") && steps[2].contains("web-0")
                && steps[2].hasSuffix("waited for role db: db-0 came last")
        )
        #expect(steps[3].contains("@20.000s") && steps[3].hasSuffix("scripts, slowest 2-thishost/start-web (4.000s)"))
        let slowest = try #require(lines.firstIndex(of: "slowest scripts:"))
        #expect(slowest == 6 && lines[5].isEmpty, "a blank line, then the list:\n\(text)")
        #expect(lines[slowest + 1].contains("14.000s") && lines[slowest + 1].contains("db-0") && lines[slowest + 1].hasSuffix("2-thishost/init-db"))
        #expect(lines[slowest + 2].contains("web-0") && lines[slowest + 2].hasSuffix("2-thishost/start-web  (exit 4)"), "a failed script's exit code")
    }

    @Test func `a context where no node has finished has no chain, and says so in one line`() {
        var analysis = Self.analysis()
        analysis.chain = nil
        analysis.complete = false
        #expect(
            AnalyzeCommand.render(analysis, createdAt: Self.created)
                == "context shop-1a2b (shop): still running; no node has finished yet, so there is no critical chain"
        )
    }

    @Test func `after a real boot where web waits for a slow database, text and JSON name the chain and the slowest script`() async throws {
        let (broker, state) = try await ExitStatusTests.broker()
        let url = try ExitStatusTests.brokerURL(state)
        let folder = try UpCommandTests.makeExample(
            """
            <cluster xmlns:muster="urn:muster:cluster:1">
              <workspace><name>db</name><image>db-image</image><quantity>1</quantity><nic>public</nic>
                <ctx><provides><identity/><role>db</role></provides></ctx></workspace>
              <workspace><name>web</name><image>web-image</image><quantity>1</quantity><nic>public</nic>
                <ctx><provides><identity/></provides><requires><role name="db" muster:wait="ready"/></requires></ctx></workspace>
            </cluster>
            """,
            scripts: [
                "db-image/ctx-scripts/2-thishost/publicnic": "sleep 2; echo database ready",
                "web-image/ctx-scripts/2-thishost/publicnic": "echo web up",
            ]
        )
        let up = try BackgroundCommand([
            "up", folder + "/cluster.xml", "--headless", "--state", workFolder("nodes"), "--broker", url, "--token-file", state + "/operator-token",
        ])
        await up.waitFor("complete, all ok")
        #expect(await up.wait() == 0, "\(up.text)")
        let context = try #require(up.text.split(separator: " ").first { $0.hasPrefix("muster-e2e-custom-") }.map(String.init))

        let text = try await CommandRunner.muster(["analyze", context, "--state", state])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.first?.hasPrefix("critical chain of \(context) ") == true && lines.first?.contains("complete, all ok") == true,
            "\(text.stdout)"
        )
        #expect(lines.contains { $0.contains("db-0") && $0.hasSuffix("boot: launched → checked in") }, "\(text.stdout)")
        #expect(lines.contains { $0.contains("web-0") && $0.hasSuffix("waited for role db: db-0 came last") }, "\(text.stdout)")
        let heading = try #require(lines.firstIndex(of: "slowest scripts:"), "\(text.stdout)")
        #expect(lines[heading + 1].contains("db-0") && lines[heading + 1].hasSuffix("2-thishost/publicnic"), "the database's script is slowest")

        let json = try await CommandRunner.muster(["analyze", context, "--json", "--top", "1", "--state", state])
        #expect(json.status == 0, "\(json.stderr)")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let analysis = try decoder.decode(AnalyzeCommand.Analysis.self, from: Data(json.stdout.utf8))
        #expect(analysis.context.rawValue == context && analysis.complete && analysis.allOk)
        let chain = try #require(analysis.chain)
        #expect(chain.links.map(\.kind) == [.boot, .scripts, .wait, .scripts], "\(chain.summary)")
        #expect(chain.links.map(\.node) == ["db-0", "db-0", "web-0", "web-0"])
        #expect(chain.links[2].label == "db" && chain.links[2].provider == "db-0")
        #expect(chain.links[1].slowest?.script.script == "2-thishost/publicnic")
        #expect(analysis.slowest.count == 1, "--top 1")
        #expect(analysis.slowest.first?.node == "db-0" && analysis.slowest.first?.script == "2-thishost/publicnic")
        // The broker times a script from its agent's "started" to its "finished": on a loaded machine the first may
        // arrive a little late, so the two-second script measures a bit less.
        #expect((analysis.slowest.first?.seconds ?? 0) >= 1.0, "the two-second script")
        #expect((analysis.seconds ?? 0) >= 2)
        await broker.stop()
    }
}
