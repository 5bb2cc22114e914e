import Foundation
import MusterCore

/// Runs a node's ``ScriptPlan`` step by step: the agent's main work once the node is released.
///
/// - Each script runs with ``ScriptRunner`` in the ctx-scripts folder (as Nimbus ran them), with the
///   agent's environment plus `MUSTER_CONTEXT`, `MUSTER_NODE`, `MUSTER_ROOT`, `MUSTER_CTX_SCRIPTS`,
///   `MUSTER_PHASE` and `MUSTER_SCRIPT`, and without the node token (``AgentBootstrap/tokenVariable``).
/// - Every line (the script's stdout and stderr, and the agent's own lines about the run) goes to the
///   reporter as an ``MusterCore/OutputLine``, numbered on from the index the caller gives.
/// - The first failure stops the run: the result is error 4 (execution) with a message naming the script,
///   how it ended (exit code, signal, "timed out after N s") and the last lines of its output. A host file or
///   the progress record that cannot be written is error 3 (environment).
/// - A `3-data` value is written to a 0600 file (see ``DataFile``) that is removed when its script ends,
///   whatever the outcome.
/// - Resumable: a script step recorded as completed in the ``ProgressStore`` is not run again (the built-in
///   host-files step, being idempotent, always runs). A step counts as completed once the record says so,
///   which is written right after the script exits 0 and before `scriptFinished` is reported; only an agent
///   that dies in between runs that step a second time.
public struct PhaseRunner: Sendable {
    /// The node's folders.
    public var layout: NodeLayout
    /// The node's context.
    public var context: ContextID
    /// The node's name.
    public var node: String
    /// How long each script may run.
    public var scriptTimeout: Duration
    /// Runs the scripts.
    public var runner: ScriptRunner
    /// Receives progress and output.
    public var reporter: any AgentReporting
    /// The record of completed steps.
    public var progress: ProgressStore
    /// How many lines of a failed script's output its error message quotes.
    public var tailLines: Int

    /// Creates a phase runner.
    public init(
        layout: NodeLayout,
        context: ContextID,
        node: String,
        scriptTimeout: Duration,
        runner: ScriptRunner = ScriptRunner(),
        reporter: any AgentReporting,
        progress: ProgressStore,
        tailLines: Int = 20
    ) {
        self.layout = layout
        self.context = context
        self.node = node
        self.scriptTimeout = scriptTimeout
        self.runner = runner
        self.reporter = reporter
        self.progress = progress
        self.tailLines = tailLines
    }

    /// How a run ended.
    public struct Outcome: Sendable, Hashable {
        /// `ok`, or the error to report; `nil` when the calling task was cancelled before the plan finished
        /// (the agent is stopping, and reports nothing).
        public var result: NodeResult?
        /// The index of the next output line.
        public var nextOutputIndex: Int
    }

    /// Runs `plan`, numbering output lines from `outputIndex`.
    public func run(_ plan: ScriptPlan, outputIndex: Int) async -> Outcome {
        var output = OutputNumbering(next: outputIndex, reporter: reporter)
        DataFile.clearLeftovers(in: layout.dataFolder)
        for step in plan.steps {
            if Task.isCancelled { return Outcome(result: nil, nextOutputIndex: output.next) }
            let failure: AgentError?
            switch step {
            case .hostFiles(let files): failure = await writeHostFiles(files, output: &output)
            case .script(let script):
                if await progress.isCompleted(script.key) {
                    await output.emit(.agent, "\(script): completed before the agent restarted; not run again", for: script.key)
                    continue
                }
                switch await run(script, output: &output) {
                case .success: failure = nil
                case .failure(let error): failure = error
                case .cancelled: return Outcome(result: nil, nextOutputIndex: output.next)
                }
            }
            if let failure {
                try? await progress.setOutputIndex(output.next)
                return Outcome(result: failure.result, nextOutputIndex: output.next)
            }
        }
        return Outcome(result: .ok, nextOutputIndex: output.next)
    }

    private func writeHostFiles(_ files: HostFiles, output: inout OutputNumbering) async -> AgentError? {
        let reference = PlanStep.hostFiles(files).reference
        await reporter.scriptStarted(reference)
        for note in files.notes { await output.emit(.agent, note, for: reference) }
        await output.emit(
            .agent,
            "writing etc/hosts (\(Plural.count(files.hosts.count, "host"))), etc/hosts.equiv and etc/ssh/ssh_known_hosts (\(Plural.count(files.knownHosts.count, "key")))",
            for: reference
        )
        do {
            try NodeFiles(root: layout.root).write(files)
        } catch {
            await output.emit(.agent, error.message, for: reference)
            await reporter.scriptFinished(reference, exitCode: 1)
            return error
        }
        await reporter.scriptFinished(reference, exitCode: 0)
        return nil
    }

    private enum StepResult {
        case success
        case failure(AgentError)
        case cancelled
    }

    private func run(_ step: ScriptStep, output: inout OutputNumbering) async -> StepResult {
        var dataFile: DataFile?
        if let data = step.data {
            do {
                dataFile = try DataFile(name: data.name, value: data.value, in: layout.dataFolder)
            } catch {
                return .failure(.environment("cannot write the value file for \(step.script): \(error.localizedDescription)"))
            }
        }
        defer { dataFile?.remove() }
        let reference = step.reference(dataFile: dataFile?.url.path)
        await reporter.scriptStarted(reference)
        await output.emit(.agent, "running \(step)", for: reference)
        var tail = OutputTail(capacity: tailLines)
        let invocation = ScriptInvocation(
            script: layout.scripts.appendingPathComponent(step.script),
            arguments: reference.arguments,
            workingDirectory: layout.scripts,
            environment: environment(for: step),
            timeout: scriptTimeout
        )
        let outcome = await runner.run(invocation) { line in
            tail.append(line)
            await output.emit(line.stream, line.text, for: reference)
        }
        await output.emit(.agent, "\(step.script) \(outcome.summary)", for: reference)
        if outcome == .cancelled {
            await reporter.scriptFinished(reference, exitCode: outcome.exitCode)
            return .cancelled
        }
        if outcome.isSuccess {
            do {
                try await progress.markCompleted(step.key, outputIndex: output.next)
            } catch {
                await reporter.scriptFinished(reference, exitCode: outcome.exitCode)
                return .failure(error)
            }
        }
        await reporter.scriptFinished(reference, exitCode: outcome.exitCode)
        return outcome.isSuccess ? .success : .failure(.execution("\(step) \(outcome.summary)\n\(tail.text)"))
    }

    private func environment(for step: ScriptStep) -> [String: String?] {
        [
            "MUSTER_CONTEXT": context.rawValue,
            "MUSTER_NODE": node,
            "MUSTER_ROOT": layout.root.path,
            "MUSTER_CTX_SCRIPTS": layout.scripts.path,
            "MUSTER_PHASE": String(step.phase),
            "MUSTER_SCRIPT": step.script,
            AgentBootstrap.tokenVariable: nil,
        ]
    }
}

/// Numbers the lines of a run and hands them to the reporter.
private struct OutputNumbering {
    var next: Int
    let reporter: any AgentReporting

    mutating func emit(_ stream: MusterCore.OutputStream, _ text: String, for script: ScriptRef) async {
        let line = OutputLine(index: next, time: Date(), phase: script.phase, script: script.script, stream: stream, text: text)
        next += 1
        await reporter.output(line)
    }
}
