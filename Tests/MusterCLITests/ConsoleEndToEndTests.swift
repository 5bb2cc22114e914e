import Foundation
import Glibc
import Testing

@Suite("The console in a real terminal")
struct ConsoleEndToEndTests {
    @Test func `an operator watches the CPE boot, reads a dependent's output, kills and retries a node, resizes and quits`() async throws {
        let work = workFolder("console")
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        let muster = CommandRunner.productsFolder.appendingPathComponent("muster").path
        let marker = "console-ended-\(UUID().uuidString.prefix(6))"
        try await terminal.start(
            width: 120,
            height: 40,
            command:
                "cd \(CommandRunner.repository.path) && TERM=xterm-256color \(muster) up Examples/cpe/cluster.xml --work \(work); echo \(marker) $?; sleep 600"
        )
        // The tree reaches all ok.
        try await terminal.waitFor("4/4 ok")
        var screen = try await terminal.waitFor("complete, all ok")
        #expect(screen.contains("✓ rabbitmq-head-0"))
        let headIP = try #require(
            screen.split(separator: "\n").first { $0.contains("✓ rabbitmq-head-0") }?.split(separator: " ").first { $0.hasPrefix("127.") }.map(
                String.init
            )
        )

        // Enter on a dependent: its 1-ipandhost output names the head's IP.
        try await terminal.keys("g")
        for _ in 0..<4 { try await terminal.keys("j") }
        try await terminal.keys("Enter")
        screen = try await terminal.waitFor("node provisioner-0")
        screen = try await terminal.waitFor("RabbitMQ-head IP: \(headIP)")
        #expect(screen.contains("RabbitMQ-head Hostname: rabbitmq-head-0."))

        // Back to the tree; kill the selected node (x, y) and see it killed.
        try await terminal.keys("Escape")
        try await terminal.waitFor("─ 1 tree")
        try await terminal.keys("x")
        try await terminal.waitFor("Kill node provisioner-0?")
        try await terminal.keys("y")
        screen = try await terminal.waitFor("⊘ provisioner-0")
        #expect(screen.contains("killed"))

        // Retry it (r, y): it comes back ok.
        try await terminal.keys("r")
        try await terminal.waitFor("Retry node provisioner-0?")
        try await terminal.keys("y")
        try await terminal.waitFor("retrying provisioner-0")
        screen = try await terminal.waitFor("4/4 ok")
        #expect(screen.contains("✓ provisioner-0"))

        // 80×24 stays readable.
        try await terminal.resize(width: 80, height: 24)
        screen = try await terminal.waitFor("✓ aggregator-0")
        let lines = screen.trimmingCharacters(in: .newlines).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count <= 24)
        #expect(lines.allSatisfy { $0.count <= 80 })
        #expect(screen.contains("muster cpe"))

        // q quits (asking first: stopping it stops the nodes); the terminal is a shell again.
        try await terminal.keys("q")
        screen = try await terminal.waitFor("Quit and stop the embedded broker?")
        try await terminal.keys("y")
        screen = try await terminal.waitFor("\(marker) 0")
        #expect(!screen.contains("─ 1 tree"), "the console's screen is gone")
        #expect(processes(mentioning: "--userdata \(work)").isEmpty, "quitting stopped every node")
    }
}
