import ArgumentParser
import Foundation
import Logging
import MusterConsole
import MusterCore

struct ConsoleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The console's renderer on an N-node context: frame times per view, the cost of one event, idle CPU.",
        discussion: """
            A real context engine boots the seed topology scaled to N nodes (every dependent waiting on the head, \
            so that the waits view is full); the console renders its tree, a node's detail with 2,000 output \
            lines, and the waits view at 160×50 while the selection moves, then applies the head's check-in \
            event by event, lets a few hundred nodes finish, and renders the timeline (with its critical chain, \
            computed every frame) and the contexts view. Idle CPU runs the console's real loop (no terminal; it waits on its wake-up pipe as \
            it does on a terminal) for --idle-seconds and reads the process's CPU time. Targets: frame ≤ 2 ms at \
            10,000 nodes, idle CPU ≤ 0.5 %.
            """
    )

    @Option(help: ArgumentHelp("Node counts, comma-separated.", valueName: "n[,n…]"))
    var nodes = "10000"

    @Option(help: "Frames rendered per view.")
    var frames = 300

    @Option(help: "How long to measure idle CPU (0 skips it).")
    var idleSeconds = 10

    @OptionGroup var output: BenchOutput

    func run() throws {
        var report = BenchReport(json: output.json)
        for count in try BenchSizes.parse(nodes, name: "--nodes") {
            BenchReport.progress("console: \(count) nodes…")
            report.add(try measure(count))
        }
        report.printTable(columns: [
            ("tree p50", "tree_p50_ms", Figure.milliseconds), ("tree p99", "tree_p99_ms", Figure.milliseconds),
            ("detail p99", "detail_p99_ms", Figure.milliseconds), ("waits p99", "waits_p99_ms", Figure.milliseconds),
            ("timeline p99", "timeline_p99_ms", Figure.milliseconds), ("contexts p99", "contexts_p99_ms", Figure.milliseconds),
            ("event", "event_apply_us", Figure.microseconds), ("idle CPU", "idle_cpu_percent", Figure.percent),
        ])
    }

    private func measure(_ count: Int) throws -> BenchResult {
        // A real engine, stopped with every dependent waiting on the head.
        let document = try ClusterDocumentParser.document(from: Array(ScaledCluster.document(nodes: count).utf8))
        var engine = ContextEngine()
        let id = ContextID("bench")
        var now = Date(timeIntervalSince1970: 1_800_000_000)
        _ = try engine.apply(.createContext(id: id, name: "bench", document: document), at: now)
        let names = try engine.context(id).nodeNames
        for (index, node) in names.enumerated() where index > 0 {
            now += 0.001
            _ = try engine.apply(.checkIn(context: id, node: node, identities: [ScaledCluster.identity(node, index)]), at: now)
        }
        let snapshot = try engine.snapshot(of: id)
        var session = ConsoleSession(broker: "http://127.0.0.1:7077", options: ConsoleOptions(), screen: ScreenSize(width: 160, height: 50))
        _ = session.apply(.snapshot(snapshot))
        _ = session.apply(.connection(.connected))
        let lines = (0..<2_000).map {
            OutputLine(
                index: $0,
                time: now,
                phase: 1,
                script: "1-ipandhost/rabbitmq-head",
                stream: $0 % 7 == 0 ? .stderr : .stdout,
                text: "line \($0) of the output of a script"
            )
        }
        _ = session.apply(.output(node: names[min(1, names.count - 1)], attempt: 0, lines: lines))

        func renderFrames(_ keys: [Key]) -> Samples {
            var samples = Samples()
            let clock = ContinuousClock()
            for frame in 0..<frames {
                _ = session.handle(.key(keys[frame % keys.count]), at: now)
                let elapsed = clock.measure { _ = ConsoleRenderer.render(session.frame(at: now)) }
                samples.add(elapsed.seconds * 1_000)
            }
            return samples
        }
        let tree = renderFrames([.down, .down, .pageDown, .down, .pageUp, .end, .home])
        _ = session.handle(.key(.home), at: now)
        _ = session.handle(.key(.down), at: now)
        _ = session.handle(.key(.down), at: now)
        _ = session.handle(.key(.enter), at: now)
        let detail = renderFrames([.up, .down, .pageUp, .pageDown])
        _ = session.handle(.key(.escape), at: now)
        _ = session.handle(.key(.character("2")), at: now)
        let waits = renderFrames([.down, .down, .pageDown, .pageUp])

        // The head checks in: every dependent is released. Apply the events one by one.
        now += 1
        let outcome = try engine.apply(.checkIn(context: id, node: names[0], identities: [ScaledCluster.identity(names[0], 0)]), at: now)
        let clock = ContinuousClock()
        let applying = clock.measure {
            for event in outcome.events { _ = session.apply(.events([event])) }
        }
        let perEvent = applying.seconds * 1e6 / Double(max(1, outcome.events.count))

        // The head and a few hundred dependents finish: the timeline has a critical chain to find and draw.
        for node in names.prefix(max(1, min(300, count / 20))) {
            now += 0.01
            guard let finished = try? engine.apply(.report(context: id, node: node, result: .ok), at: now) else { continue }
            _ = session.apply(.events(finished.events))
        }
        _ = session.handle(.key(.character("4")), at: now)
        let timeline = renderFrames([.down, .down, .pageDown, .pageUp])
        let contexts = (0..<20).map {
            ContextSummary(id: ContextID("ctx-\($0)"), name: "bench-\($0)", createdAt: now, status: snapshot.status)
        }
        _ = session.apply(.contexts(contexts))
        _ = session.handle(.key(.character("0")), at: now)
        let contextsView = renderFrames([.down, .up])
        _ = session.handle(.key(.character("1")), at: now)

        let idle = idleSeconds > 0 ? try idleCPU(session) : 0
        return BenchResult(
            scenario: "console",
            parameters: ["nodes": count, "events": outcome.events.count],
            figures: [
                "tree_p50_ms": tree.percentile(50), "tree_p99_ms": tree.percentile(99),
                "detail_p50_ms": detail.percentile(50), "detail_p99_ms": detail.percentile(99),
                "waits_p50_ms": waits.percentile(50), "waits_p99_ms": waits.percentile(99),
                "timeline_p50_ms": timeline.percentile(50), "timeline_p99_ms": timeline.percentile(99),
                "contexts_p99_ms": contextsView.percentile(99),
                "event_apply_us": perEvent, "idle_cpu_percent": idle,
            ]
        )
    }

    /// Runs the console's loop with nothing happening, and returns the CPU it used, in percent of one core.
    private func idleCPU(_ session: ConsoleSession) throws -> Double {
        let inbox = ConsoleInbox()
        let driver = IdleTerminal(size: ScreenSize(width: 160, height: 50))
        let loop = ConsoleLoop(
            session: session,
            driver: driver,
            inbox: inbox,
            theme: .builtInDark,
            loadTheme: { ThemeCatalog(folders: []).load($0) },
            logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() },
            perform: { _, _ in }
        )
        let finished = DispatchSemaphore(value: 0)
        // The loop is used from its own thread only, as the console does.
        let box = LoopBox(loop)
        let thread = Thread {
            try? box.loop.run()
            finished.signal()
        }
        thread.start()
        // Let it draw its first frame, then measure a quiet stretch.
        Thread.sleep(forTimeInterval: 1)
        let before = Memory.cpuSeconds(pid: getpid())
        Thread.sleep(forTimeInterval: TimeInterval(idleSeconds))
        let used = Memory.cpuSeconds(pid: getpid()) - before
        inbox.post(.stop)
        finished.wait()
        return used / Double(idleSeconds) * 100
    }
}

/// Hands the console loop to the thread that runs it (it is used there only).
private final class LoopBox: @unchecked Sendable {
    let loop: ConsoleLoop
    init(_ loop: ConsoleLoop) { self.loop = loop }
}

/// A terminal with no screen that waits like a real one: on the console's wake-up pipe, up to the loop's timeout.
final class IdleTerminal: TerminalDriver {
    let size: ScreenSize
    let supportsColor = true
    let supportsUnicode = true

    init(size: ScreenSize) {
        self.size = size
    }

    func start() throws {}
    func stop() {}
    func suspend() {}
    func resume() {}
    func copyToClipboard(_ text: String) {}
    func apply(_ theme: Theme) {}
    func draw(_ update: FrameUpdate) {}

    func waitForInput(timeout: Double?, wakeUp: WakeUpPipe) -> [ConsoleInput] {
        var descriptor = pollfd(fd: wakeUp.readDescriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = timeout.map { Int32(max(0, min($0, 3_600)) * 1_000) } ?? -1
        _ = poll(&descriptor, 1, milliseconds)
        wakeUp.drain()
        return []
    }
}
