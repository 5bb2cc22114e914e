import Foundation
import Logging
import MusterClient
import MusterCore

/// Sends the agent's progress to the broker, in order and once, whatever the broker's health.
///
/// Output lines are buffered and sent in batches; a script's lines always reach the broker before its
/// `scriptFinished`, and everything before the final report. When the broker is away, every call is retried
/// with backoff until it answers (the scripts go on meanwhile: their lines wait in the buffer); when it
/// restarts, the broker deduplicates what it already had (output by line index, script reports by value).
public actor BrokerReporter: AgentReporting {
    private let client: AgentClient
    private let logger: Logger
    private var buffer: [OutputLine] = []
    private var flusher: Task<Void, Never>?
    /// Lines are sent in batches of at most this many.
    private let batchSize = 500

    /// Creates a reporter over a node's agent client.
    public init(client: AgentClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func scriptStarted(_ script: ScriptRef) async {
        await flush()
        await deliver("script started") { try await $0.scriptStarted(script) }
    }

    public func scriptFinished(_ script: ScriptRef, exitCode: Int) async {
        await flush()
        await deliver("script finished") { try await $0.scriptFinished(script, exitCode: exitCode) }
    }

    public func output(_ line: OutputLine) async {
        buffer.append(line)
        if buffer.count >= batchSize {
            await flush()
        } else if flusher == nil {
            // Lines go out within a moment even while a script is quiet between them.
            flusher = Task {
                try? await Task.sleep(for: .milliseconds(100))
                await self.flushFromTimer()
            }
        }
    }

    /// Reports the node's final result (after every buffered line).
    public func report(_ result: NodeResult) async {
        await flush()
        await deliver("report") { try await $0.report(result) }
    }

    private func flushFromTimer() async {
        flusher = nil
        await flush()
    }

    /// Sends every buffered line, in order, retrying until the broker has them.
    public func flush() async {
        while !buffer.isEmpty {
            let batch = Array(buffer.prefix(batchSize))
            var sent = false
            await deliver("output") { client in
                let outcome = try await client.appendOutput(batch)
                self.acknowledge(upTo: outcome.next)
                sent = true
            }
            if !sent { return }
        }
    }

    /// Drops the lines the broker has; after a gap (lines the broker lost), renumbers the rest from where it is.
    private func acknowledge(upTo next: Int) {
        guard let first = buffer.first else { return }
        if next > first.index {
            buffer.removeAll { $0.index < next }
        } else if next < first.index {
            logger.warning("the broker lost output lines; renumbering", metadata: ["expected": "\(next)", "have": "\(first.index)"])
            for offset in buffer.indices { buffer[offset].index = next + offset }
        }
    }

    /// Runs a call until it succeeds, retrying with backoff while the broker is unreachable or unavailable.
    /// A refusal that retrying cannot fix (the node was killed or retried, a conflict) is logged and dropped.
    private func deliver(_ what: String, _ call: (AgentClient) async throws -> Void) async {
        do {
            _ = try await BrokerPatience.retryingWhileUnreachable(what, logger: logger) { try await call(client) }
        } catch {
            logger.error("the broker refused a report", metadata: ["call": "\(what)", "error": "\(error)"])
        }
    }
}
