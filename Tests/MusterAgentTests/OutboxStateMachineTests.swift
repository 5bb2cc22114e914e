import Foundation
import MusterCore
import Testing

@testable import MusterAgent

/// The outbox's decisions, without a broker, a clock or a socket: events in, actions out.
@Suite("Outbox state machine")
struct OutboxStateMachineTests {
    typealias Machine = OutboxStateMachine

    static let limits = Machine.Limits(window: .milliseconds(50), batchLines: 500, batchBytes: 128 * 1024)
    static let script = ScriptRef(phase: 1, script: "1-ipandhost/head", arguments: ["10.0.0.1", "head", "head.example.org"])
    static let other = ScriptRef(phase: 2, script: "2-thishost/publicnic", arguments: ["10.0.0.2", "w", "w.example.org"])

    static func line(_ index: Int, _ text: String = "") -> OutputLine {
        OutputLine(
            index: index,
            time: Date(timeIntervalSince1970: 0),
            phase: 1,
            script: script.script,
            stream: .stdout,
            text: text.isEmpty ? "line \(index)" : text
        )
    }

    static func lines(_ range: ClosedRange<Int>) -> [OutputLine] { range.map { line($0) } }

    /// The indexes of the lines an action sends (empty for any other action).
    static func indexes(_ action: Machine.Action) -> [Int] {
        if case .send(.output(let lines)) = action { lines.map(\.index) } else { [] }
    }

    /// Runs a script's worth of events into `machine`, returning each action.
    static func run(_ machine: inout Machine, _ messages: [OutboxMessage]) -> [Machine.Action] {
        messages.map { machine.enqueue($0) }
    }

    @Test func `a lone line waits for the window, then goes in a request of its own`() {
        var machine = Machine(limits: Self.limits)
        #expect(machine.enqueue(.output(Self.line(0))) == .openWindow(id: 1, delay: .milliseconds(50)))
        #expect(machine.state == .gathering(window: 1))
        #expect(machine.windowClosed(1) == .send(.output([Self.line(0)])))
    }

    @Test func `lines that come within the window travel in one request`() {
        var machine = Machine(limits: Self.limits)
        let actions = Self.run(&machine, Self.lines(0...3).map { .output($0) })
        #expect(actions == [.openWindow(id: 1, delay: .milliseconds(50)), .none, .none, .none])
        #expect(machine.windowClosed(1) == .send(.output(Self.lines(0...3))))
    }

    @Test func `a script report joins the window, and goes right after the lines before it when the window closes`() {
        var machine = Machine(limits: Self.limits)
        _ = machine.enqueue(.output(Self.line(0)))
        #expect(machine.enqueue(.scriptFinished(Self.script, exitCode: 0)) == .none)
        #expect(machine.windowClosed(1) == .send(.output([Self.line(0)])))
        #expect(machine.delivered(.outputStored(next: 1)) == .send(.scriptFinished(Self.script, exitCode: 0)))
        #expect(machine.delivered(.accepted) == .drained)
        #expect(machine.isDrained)
    }

    @Test func `a script started waits for the window like a line`() {
        var machine = Machine(limits: Self.limits)
        #expect(machine.enqueue(.scriptStarted(Self.script)) == .openWindow(id: 1, delay: .milliseconds(50)))
        #expect(machine.windowClosed(1) == .send(.scriptStarted(Self.script)))
    }

    @Test func `a quiet run is one request: the final report ends the window and carries every line and script report before it`() {
        var machine = Machine(limits: Self.limits)
        let run: [OutboxMessage] = [
            .scriptStarted(Self.script), .output(Self.line(0)), .output(Self.line(1)), .scriptFinished(Self.script, exitCode: 0),
            .scriptStarted(Self.other), .output(Self.line(2)), .scriptFinished(Self.other, exitCode: 0),
        ]
        #expect(Self.run(&machine, run) == [.openWindow(id: 1, delay: .milliseconds(50))] + Array(repeating: .none, count: 6))
        let scripts = [
            ScriptReport(script: Self.script), ScriptReport(script: Self.script, exitCode: 0), ScriptReport(script: Self.other),
            ScriptReport(script: Self.other, exitCode: 0),
        ]
        #expect(machine.enqueue(.report(.ok)) == .send(.report(.ok, lines: Self.lines(0...2), scripts: scripts)))
        #expect(machine.windowClosed(1) == .none)
        #expect(machine.delivered(.outputStored(next: 3)) == .drained)
        #expect(machine.queue.isEmpty)
    }

    @Test func `a final report alone goes at once, with no tail`() {
        var machine = Machine(limits: Self.limits)
        #expect(machine.enqueue(.report(.error(code: 4, message: "boom"))) == .send(.report(.error(code: 4, message: "boom"))))
        #expect(machine.delivered(.accepted) == .drained)
    }

    @Test func `a tail over the batch cap goes first on its own, and the report carries what fits`() {
        var machine = Machine(limits: Machine.Limits(window: .milliseconds(50), batchLines: 3, batchBytes: 1 << 20))
        _ = machine.enqueue(.output(Self.line(0)))
        _ = machine.enqueue(.output(Self.line(1)))
        #expect(machine.enqueue(.output(Self.line(2))) == .send(.output(Self.lines(0...2))), "a full batch goes")
        for index in 3...6 { _ = machine.enqueue(.output(Self.line(index))) }
        _ = machine.enqueue(.report(.ok))
        // Four lines and the report are more than a batch of three: three lines go, then the report with the last.
        #expect(machine.delivered(.outputStored(next: 3)) == .send(.output(Self.lines(3...5))))
        #expect(machine.delivered(.outputStored(next: 6)) == .send(.report(.ok, lines: [Self.line(6)])))
        #expect(machine.delivered(.outputStored(next: 7)) == .drained)
    }

    @Test func `a report refused for a gap is sent again with its lines renumbered, and later lines follow`() {
        var machine = Machine(limits: Self.limits)
        _ = machine.enqueue(.output(Self.line(10)))
        #expect(machine.enqueue(.report(.ok)) == .send(.report(.ok, lines: [Self.line(10)])))
        var renumbered = Self.line(10)
        renumbered.index = 4
        #expect(machine.delivered(.outputGap(expected: 4)) == .send(.report(.ok, lines: [renumbered])))
        #expect(machine.delivered(.outputStored(next: 5)) == .drained)
        #expect(machine.enqueue(.output(Self.line(11))) == .openWindow(id: 2, delay: .milliseconds(50)))
        #expect(Self.indexes(machine.windowClosed(2)) == [5])
    }

    @Test func `a broker that predates tails took the result only: the lines and script reports go on their own, each once`() {
        var machine = Machine(limits: Self.limits)
        _ = machine.enqueue(.scriptStarted(Self.script))
        _ = machine.enqueue(.output(Self.line(0)))
        guard case .send(.report(.ok, let lines, let scripts)) = machine.enqueue(.report(.ok)) else {
            Issue.record("the report did not carry its tail")
            return
        }
        #expect(lines == [Self.line(0)] && scripts == [ScriptReport(script: Self.script)])
        #expect(machine.delivered(.accepted) == .send(.scriptStarted(Self.script)))
        #expect(machine.delivered(.accepted) == .send(.output([Self.line(0)])))
        #expect(machine.delivered(.outputStored(next: 1)) == .drained)
    }

    @Test func `a report whose lines the broker took for repeats of an earlier run's is applied, and its lines go on renumbered`() {
        var machine = Machine(limits: Self.limits)
        _ = machine.enqueue(.scriptFinished(Self.script, exitCode: 0))
        _ = machine.enqueue(.output(Self.line(3)))
        _ = machine.enqueue(.report(.ok))
        // An agent that died had sent lines up to 7: the broker skipped line 3 as a repeat, and applied the report.
        #expect(Self.indexes(machine.delivered(.outputStored(next: 8))) == [8])
        #expect(machine.delivered(.outputStored(next: 9)) == .drained)
        #expect(machine.queue.isEmpty)
    }

    @Test func `a full batch goes without waiting for the window`() {
        var machine = Machine(limits: Machine.Limits(window: .milliseconds(50), batchLines: 3, batchBytes: 1 << 20))
        let actions = Self.run(&machine, Self.lines(0...2).map { .output($0) })
        #expect(actions == [.openWindow(id: 1, delay: .milliseconds(50)), .none, .send(.output(Self.lines(0...2)))])
        #expect(machine.windowClosed(1) == .none, "the window that was open no longer matters")
    }

    @Test func `a batch stays under its byte cap, and a line longer than the cap still goes alone`() {
        // Each short line below counts 212 bytes (text, script name, JSON): two fit under 450, three do not.
        var machine = Machine(limits: Machine.Limits(window: .zero, batchLines: 500, batchBytes: 450))
        let long = Self.line(0, String(repeating: "x", count: 1000))
        #expect(machine.enqueue(.output(long)) == .send(.output([long])))
        for index in 1...4 { _ = machine.enqueue(.output(Self.line(index, String(repeating: "y", count: 100)))) }
        guard case .send(.output(let batch)) = machine.delivered(.outputStored(next: 1)) else {
            Issue.record("the queued lines were not sent")
            return
        }
        #expect(batch.map(\.index) == [1, 2])
    }

    @Test func `while a request is in flight, what comes queues, and goes next in the order it came`() {
        var machine = Machine(limits: Self.limits)
        _ = machine.enqueue(.scriptStarted(Self.script))
        #expect(machine.windowClosed(1) == .send(.scriptStarted(Self.script)))
        let queued = Self.run(&machine, Self.lines(0...1).map { .output($0) } + [.scriptFinished(Self.script, exitCode: 0)])
        #expect(queued == [.none, .none, .none])
        #expect(machine.delivered(.accepted) == .send(.output(Self.lines(0...1))))
        #expect(machine.delivered(.outputStored(next: 2)) == .send(.scriptFinished(Self.script, exitCode: 0)))
        #expect(machine.delivered(.accepted) == .drained)
    }

    @Test func `with no broker the same delivery is tried again after each back-off, and gathers the lines that came meanwhile`() {
        var machine = Machine(limits: Self.limits)
        _ = machine.enqueue(.output(Self.line(0)))
        #expect(machine.windowClosed(1) == .send(.output([Self.line(0)])))
        #expect(machine.failed(.unreachable) == .scheduleRetry(failures: 1))
        #expect(machine.enqueue(.output(Self.line(1))) == .none, "nothing is sent while waiting to retry")
        #expect(machine.retryDue() == .send(.output(Self.lines(0...1))))
        #expect(machine.failed(.unreachable) == .scheduleRetry(failures: 2))
        #expect(machine.retryDue() == .send(.output(Self.lines(0...1))))
        #expect(machine.failed(.unreachable) == .scheduleRetry(failures: 3))
    }

    @Test func `the back-off starts over after a delivery gets through`() {
        var machine = Machine(limits: Self.limits)
        _ = machine.enqueue(.scriptStarted(Self.script))
        _ = machine.windowClosed(1)
        _ = machine.failed(.unreachable)
        _ = machine.retryDue()
        #expect(machine.failed(.unreachable) == .scheduleRetry(failures: 2))
        _ = machine.enqueue(.scriptFinished(Self.script, exitCode: 0))
        #expect(machine.retryDue() == .send(.scriptStarted(Self.script)))
        #expect(machine.delivered(.accepted) == .send(.scriptFinished(Self.script, exitCode: 0)))
        #expect(machine.failed(.unreachable) == .scheduleRetry(failures: 1))
    }

    @Test func `what scripts did during an outage is delivered once, the retried head carried by the final report queued behind it`() {
        var machine = Machine(limits: Self.limits)
        _ = machine.enqueue(.scriptStarted(Self.script))
        #expect(machine.windowClosed(1) == .send(.scriptStarted(Self.script)))
        #expect(machine.failed(.unreachable) == .scheduleRetry(failures: 1))
        // The broker is away; two scripts run to the end and the node reports ok.
        let meanwhile: [OutboxMessage] =
            Self.lines(0...2).map { .output($0) } + [
                .scriptFinished(Self.script, exitCode: 0), .scriptStarted(Self.other), .output(Self.line(3)),
                .scriptFinished(Self.other, exitCode: 0), .report(.ok),
            ]
        for message in meanwhile { #expect(machine.enqueue(message) == .none) }
        // Each retry sends the head again, now with everything queued behind it, in the final report: as a retried
        // batch of lines takes the lines that came meanwhile.
        let scripts = [
            ScriptReport(script: Self.script), ScriptReport(script: Self.script, exitCode: 0), ScriptReport(script: Self.other),
            ScriptReport(script: Self.other, exitCode: 0),
        ]
        let everything = OutboxDelivery.report(.ok, lines: Self.lines(0...3), scripts: scripts)
        for failures in 2...5 {
            #expect(machine.retryDue() == .send(everything))
            #expect(machine.failed(.unreachable) == .scheduleRetry(failures: failures))
        }
        // The broker is back.
        #expect(machine.retryDue() == .send(everything))
        #expect(machine.delivered(.outputStored(next: 4)) == .drained)
        #expect(machine.queue.isEmpty && machine.isDrained)
    }

    @Test func `a window or a retry that is no longer current does nothing`() {
        var machine = Machine(limits: Self.limits)
        _ = machine.enqueue(.output(Self.line(0)))
        _ = machine.enqueue(.report(.ok))
        #expect(machine.windowClosed(1) == .none)
        #expect(machine.retryDue() == .none)
        #expect(machine.delivered(.outputStored(next: 1)) == .drained)
        #expect(machine.delivered(.accepted) == .none, "an answer to nothing in flight is ignored")
    }

    @Test func `a message the broker rejects is dropped, and the next one goes`() {
        // No window: each message goes as it comes, so the report is not carried by the one in flight.
        var machine = Machine(limits: Machine.Limits(window: .zero, batchLines: 500, batchBytes: 128 * 1024))
        _ = machine.enqueue(.scriptFinished(Self.script, exitCode: 0))
        _ = machine.enqueue(.report(.ok))
        #expect(machine.failed(.rejected) == .send(.report(.ok)))
        #expect(machine.delivered(.accepted) == .drained)
    }

    @Test func `a refused node stops the outbox: the queue is dropped and nothing more is sent`() {
        var machine = Machine(limits: Self.limits)
        _ = machine.enqueue(.scriptStarted(Self.script))
        _ = machine.enqueue(.output(Self.line(0)))
        _ = machine.enqueue(.report(.ok))
        #expect(machine.failed(.refused) == .stopped(discarded: 3))
        #expect(machine.enqueue(.output(Self.line(1))) == .none)
        #expect(machine.queue.isEmpty)
        #expect(machine.isDrained)
    }

    @Test func `after a gap the queued lines and every later one are numbered on from where the broker is`() {
        var machine = Machine(limits: Self.limits)
        _ = machine.enqueue(.output(Self.line(10)))
        _ = machine.windowClosed(1)
        _ = machine.enqueue(.output(Self.line(11)))
        _ = machine.enqueue(.scriptFinished(Self.script, exitCode: 0))
        #expect(Self.indexes(machine.delivered(.outputGap(expected: 4))) == [4, 5])
        _ = machine.enqueue(.output(Self.line(12)))
        #expect(machine.delivered(.outputStored(next: 6)) == .send(.scriptFinished(Self.script, exitCode: 0)))
        #expect(Self.indexes(machine.delivered(.accepted)) == [6])
    }

    @Test func `lines the broker already held from an earlier run are not taken for repeats: the new ones follow them`() {
        var machine = Machine(limits: Self.limits)
        _ = machine.enqueue(.output(Self.line(3)))
        _ = machine.windowClosed(1)
        // An agent that died mid-script had sent lines up to 7; this run numbers on from its record (3).
        #expect(Self.indexes(machine.delivered(.outputStored(next: 8))) == [8])
        #expect(machine.delivered(.outputStored(next: 9)) == .drained)
        #expect(machine.enqueue(.output(Self.line(4))) == .openWindow(id: 2, delay: .milliseconds(50)))
        #expect(Self.indexes(machine.windowClosed(2)) == [9])
    }

    @Test func `a batch sent again after its answer was lost counts as delivered, without renumbering`() {
        var machine = Machine(limits: Self.limits)
        _ = machine.enqueue(.output(Self.line(0)))
        _ = machine.enqueue(.output(Self.line(1)))
        _ = machine.windowClosed(1)
        _ = machine.failed(.unreachable)
        #expect(machine.retryDue() == .send(.output(Self.lines(0...1))))
        // The broker had stored the first try: it holds exactly these lines.
        #expect(machine.delivered(.outputStored(next: 2)) == .drained)
        #expect(machine.indexShift == 0)
    }
}
