import Foundation
import Testing

/// Commands that read a context's history once: they end when they have it, whatever other contexts did since.
@Suite("Commands that read a context's history")
struct HistoryCommandTests {
    @Test func `analyze and console --snapshot of a context end when another context had events after it`() async throws {
        let (broker, state) = try await ExitStatusTests.broker()
        let url = try ExitStatusTests.brokerURL(state)
        var contexts: [String] = []
        for workspace in ["first", "second"] {
            let file = try ConsoleRoundTwoTests.cluster(workspace, quantity: 1)
            let up = try BackgroundCommand([
                "up", file, "--headless", "--state", workFolder("nodes"), "--broker", url, "--token-file", state + "/operator-token",
            ])
            await up.waitFor("complete, all ok")
            #expect(await up.wait() == 0, "\(up.text)")
            contexts.append(try #require(up.text.split(separator: " ").first { $0.hasPrefix("muster-e2e-custom-") }.map(String.init)))
        }

        // The first context's events all come before the second's: reading its history must not wait for more.
        let analyze = try BackgroundCommand(["analyze", contexts[0], "--state", state])
        await analyze.waitFor("critical chain of \(contexts[0])", timeout: .seconds(60))
        _ = await analyze.stop(signal: SIGKILL)
        let picture = workFolder("snapshot") + "/timeline.txt"
        let snapshot = try BackgroundCommand([
            "console", "--state", state, "--context", contexts[0], "--snapshot", picture, "--view", "timeline",
        ])
        await snapshot.waitFor("wrote \(picture)", timeout: .seconds(60))
        _ = await snapshot.stop(signal: SIGKILL)
        let text = try String(contentsOfFile: picture, encoding: .utf8)
        #expect(text.contains("critical chain (") && text.contains("first-0"), "\(text)")
        await broker.stop()
    }
}
