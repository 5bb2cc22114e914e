import Foundation
import MusterCore

@testable import MusterConsole

/// Console sessions in known states, built by driving a real engine and feeding its snapshot and events to
/// the console the way the broker client would.
enum Scenes {
    static let broker = "http://127.0.0.1:7070"

    /// A session that loaded the snapshot taken right after creation, then followed every event.
    static func session(
        _ script: inout EngineScript,
        initial: ContextSnapshot,
        size: ScreenSize,
        options: ConsoleOptions = ConsoleOptions()
    )
        -> ConsoleSession
    {
        var session = ConsoleSession(broker: broker, options: options, screen: size)
        session.apply(.connection(.connected))
        session.apply(.snapshot(initial))
        session.apply(.events(script.takeEvents()))
        return session
    }

    /// CPE stuck: the head booted but never checked in, so the three others wait on it and on every identity.
    static func stuck(size: ScreenSize, options: ConsoleOptions = ConsoleOptions()) throws -> (ConsoleSession, EngineScript) {
        var script = try EngineScript(document: try EngineScript.cpeDocument())
        let initial = try script.snapshot()
        _ = script.takeEvents()
        for node in script.nodeNames { try script.start(node) }
        for node in ["provisioner-0", "scheduler-0", "aggregator-0"] { try script.checkIn(node) }
        let session = Self.session(&script, initial: initial, size: size, options: options)
        return (session, script)
    }

    /// CPE in progress: head and provisioner ok, scheduler failed in `1-ipandhost`, aggregator configuring,
    /// two provisioner nodes added (one launching), and output for the scheduler.
    static func progress(
        size: ScreenSize,
        options: ConsoleOptions = ConsoleOptions(),
        failureMessage: String = "1-ipandhost/rabbitmq-head exited 7"
    ) throws -> (ConsoleSession, EngineScript) {
        var script = try EngineScript(document: try EngineScript.cpeDocument())
        let initial = try script.snapshot()
        _ = script.takeEvents()
        for node in script.nodeNames { try script.start(node) }
        for node in script.nodeNames { try script.checkIn(node) }
        let head = try script.identities(for: "rabbitmq-head-0")[0]
        for node in ["rabbitmq-head-0", "provisioner-0", "scheduler-0", "aggregator-0"] {
            try script.run(node, phase: 0, script: "0-etchosts.sh", arguments: [head.ip, "rabbitmq-head-0", head.hostname])
        }
        try script.run("rabbitmq-head-0", phase: 5, script: "5-thishost-finalize/publicnic")
        try script.reportOK("rabbitmq-head-0")
        try script.run("provisioner-0", phase: 1, script: "1-ipandhost/rabbitmq-head", arguments: [head.ip])
        try script.reportOK("provisioner-0")
        try script.run("scheduler-0", phase: 1, script: "1-ipandhost/rabbitmq-head", arguments: [head.ip], exitCode: 7)
        try script.reportError("scheduler-0", code: 4, message: failureMessage)
        try script.startScript("aggregator-0", phase: 1, script: "1-ipandhost/rabbitmq-head", arguments: [head.ip])
        try script.addNodes("provisioner", 2)
        try script.launch("provisioner-1")
        var session = Self.session(&script, initial: initial, size: size, options: options)
        session.apply(.output(node: "scheduler-0", attempt: 0, lines: schedulerOutput(at: script.now, headIP: head.ip)))
        return (session, script)
    }

    static func schedulerOutput(at time: Date, headIP: String) -> [OutputLine] {
        let texts: [(Int, String, MusterCore.OutputStream, String)] = [
            (0, "0-etchosts.sh", .agent, "running 0-etchosts.sh \(headIP) rabbitmq-head-0"),
            (0, "0-etchosts.sh", .stdout, "added \(headIP) rabbitmq-head-0.ctx-1.muster.local to etc/hosts"),
            (1, "1-ipandhost/rabbitmq-head", .agent, "running 1-ipandhost/rabbitmq-head \(headIP)"),
            (1, "1-ipandhost/rabbitmq-head", .stdout, "waiting for amqp://\(headIP):5672 (rabbitmq-head-0)"),
            (1, "1-ipandhost/rabbitmq-head", .stdout, "probe 1/3: connecting to rabbitmq-head-0 on port 5672"),
            (1, "1-ipandhost/rabbitmq-head", .stderr, "curl: (7) Failed to connect to \(headIP) port 5672: Connection refused"),
            (1, "1-ipandhost/rabbitmq-head", .stdout, "probe 2/3: connecting to rabbitmq-head-0 on port 5672"),
            (1, "1-ipandhost/rabbitmq-head", .stderr, "curl: (7) Failed to connect to \(headIP) port 5672: Connection refused"),
            (1, "1-ipandhost/rabbitmq-head", .stdout, "probe 3/3: connecting to rabbitmq-head-0 on port 5672"),
            (
                1, "1-ipandhost/rabbitmq-head", .stderr,
                "error: rabbitmq-head-0 did not answer after 3 probes; the broker queue is not configured, see /var/log/rabbitmq/startup_log for details"
            ),
            (1, "1-ipandhost/rabbitmq-head", .agent, "1-ipandhost/rabbitmq-head exited 7"),
        ]
        return texts.enumerated().map { index, entry in
            OutputLine(index: index, time: time, phase: entry.0, script: entry.1, stream: entry.2, text: entry.3)
        }
    }

    /// A failure message as an agent writes it: several lines, one of them longer than any screen.
    static let longFailure = [
        "1-ipandhost/rabbitmq-head exited 7",
        "last lines of its output:",
        "probe 1/3: connecting to rabbitmq-head-0 on port 5672",
        "curl: (7) Failed to connect to 10.0.0.1 port 5672: Connection refused",
        "probe 3/3: connecting to rabbitmq-head-0 on port 5672",
        "error: rabbitmq-head-0 did not answer after 3 probes; the broker queue is not configured, see /var/log/rabbitmq/startup_log "
            + "for details, and check that the head's firewall lets port 5672 through from every node of the context",
    ].joined(separator: "\n")

    /// Three contexts as the broker lists them: a finished one, the one shown and a failed one.
    static func contextSummaries(at time: Date) -> [ContextSummary] {
        func status(_ counts: [NodeState: Int], complete: Bool, errors: Bool, terminated: Bool = false) -> ContextStatus {
            let total = counts.values.reduce(0, +)
            return ContextStatus(
                complete: complete,
                allOk: complete && !errors,
                errorPresent: errors,
                registered: total,
                expected: total,
                terminated: terminated,
                counts: counts
            )
        }
        return [
            ContextSummary(
                id: "torque-1a2b",
                name: "torque",
                createdAt: time - 3_600,
                status: status([.ok: 9], complete: true, errors: false, terminated: true)
            ),
            ContextSummary(
                id: "ctx-1",
                name: "cpe",
                createdAt: time - 37,
                status: status([.ok: 2, .pending: 1, .launching: 1, .configuring: 1, .failed: 1], complete: false, errors: true),
                // A two-hour lease (`muster up --hours 2`), 37 s into it.
                limits: ContextLimits(leaseEnds: time - 37 + 7_200)
            ),
            ContextSummary(
                id: "failing-9c0d",
                name: "failing",
                createdAt: time - 300,
                status: status([.ok: 1, .failed: 1], complete: true, errors: true)
            ),
        ]
    }

    /// The time frames are rendered at: a few seconds after the last event.
    static func now(_ script: EngineScript) -> Date { script.now + 5 }
}
