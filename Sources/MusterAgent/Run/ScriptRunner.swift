import Foundation
import MusterCore
import MusterSystem
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs one ctx-script as a child process and streams its output.
///
/// - The script starts a new session, so it leads its own process group (group id = its process id) with no
///   controlling terminal: a timeout or a stop can signal the group, grandchildren included, and the
///   operator's Ctrl-C in the terminal running the agent does not reach it.
/// - Standard input is empty. Standard output and standard error are read by one reader as the bytes arrive and
///   cut into lines (see ``LineSplitter`` and ``OutputReader``): lines come out in the order the script wrote
///   them, across both streams.
/// - When the script exits, whatever it left running in the background (a service it started) is left alone,
///   and the runner stops reading even if such a process still holds the output pipes.
/// - Past the timeout, the group gets `SIGTERM`, then `SIGKILL` after ``grace``. When the calling task is
///   cancelled, the group is ended the same way.
public struct ScriptRunner: Sendable {
    /// How long a timed-out or cancelled script's group has between `SIGTERM` and `SIGKILL`.
    public var grace: Duration
    /// The longest output line delivered whole; longer lines arrive in pieces.
    public var maximumLineBytes: Int
    /// How long a start refused because the script file is busy (`ETXTBSY`) is tried again.
    ///
    /// `ETXTBSY` says the file is open for writing somewhere. Right after a file is written that is usually a copy of
    /// the writer's descriptor in a child that another thread has forked and not yet exec'd (the fork/exec window of
    /// every multi-threaded program on Linux): it passes within milliseconds, or seconds on a machine under heavy
    /// load. A file that stays open for writing still fails, after this long. The first retry says so in the
    /// agent's own output stream.
    public var busyRetryLimit: Duration

    /// Creates a runner.
    public init(grace: Duration = .seconds(5), maximumLineBytes: Int = 16 * 1024, busyRetryLimit: Duration = .seconds(10)) {
        self.grace = grace
        self.maximumLineBytes = maximumLineBytes
        self.busyRetryLimit = busyRetryLimit
    }

    /// Runs a script to its end, handing each output line to `onLine` in order, one at a time, on the calling
    /// task, as soon as it is read.
    public func run(_ invocation: ScriptInvocation, onLine: (ScriptOutputLine) async -> Void) async -> ScriptOutcome {
        let command = ScriptCommand(script: invocation.script, arguments: invocation.arguments)
        if let note = command.note { await onLine(ScriptOutputLine(stream: .agent, text: note)) }
        let (lines, sink) = AsyncStream.makeStream(of: ScriptOutputLine.self)
        async let outcome = execute(command, invocation, sink)
        for await line in lines { await onLine(line) }
        return await outcome
    }

    private enum Event: Sendable {
        case drained
        case watchdog(fired: Bool)
    }

    private func execute(
        _ command: ScriptCommand,
        _ invocation: ScriptInvocation,
        _ sink: AsyncStream<ScriptOutputLine>.Continuation
    ) async
        -> ScriptOutcome
    {
        defer { sink.finish() }
        guard FileManager.default.fileExists(atPath: command.executable) else {
            return .failedToStart("\(command.executable) does not exist")
        }
        let clock = ContinuousClock()
        let giveUp = clock.now.advanced(by: busyRetryLimit)
        var pause = Duration.milliseconds(5)
        var retried = false
        while true {
            switch await attempt(command, invocation, sink) {
            case .ended(let outcome):
                return outcome
            case .busy(let reason):
                guard clock.now < giveUp else { return .failedToStart(reason) }
                if !retried {
                    retried = true
                    sink.yield(ScriptOutputLine(stream: .agent, text: "\(command.executable) is busy (open for writing elsewhere); trying again"))
                }
                guard (try? await Task.sleep(for: pause)) != nil else { return .cancelled }
                pause = min(pause * 2, .milliseconds(500))
            }
        }
    }

    /// What one try at starting the script came to.
    private enum Attempt {
        /// The script ran (or could not be started for good).
        case ended(ScriptOutcome)
        /// The start was refused with `ETXTBSY`; nothing ran and nothing was read.
        case busy(String)
    }

    private func attempt(
        _ command: ScriptCommand,
        _ invocation: ScriptInvocation,
        _ sink: AsyncStream<ScriptOutputLine>.Continuation
    ) async
        -> Attempt
    {
        var options = PlatformOptions()
        // A process group of its own (so a timeout can signal the script and its children together), but in the
        // agent's session: the local launcher ends a node by ending its whole session, scripts and the services
        // they leave running included. Not being the terminal's foreground group keeps Ctrl-C away from it.
        options.processGroupID = 0
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: grace)]
        var overrides: [Environment.Key: String?] = [:]
        for (name, value) in invocation.environment {
            if let key = Environment.Key(rawValue: name) { overrides[key] = value }
        }
        let leader = Mutex<pid_t?>(nil)
        let (grace, limit, lineLimit) = (self.grace, invocation.timeout, maximumLineBytes)
        // Both streams come through pipes that one reader waits on together, so that their lines keep the order
        // the script wrote them in (see OutputReader). The reader closes the read ends; until it has them, we do.
        let pipes: (stdout: (readEnd: FileDescriptor, writeEnd: FileDescriptor), stderr: (readEnd: FileDescriptor, writeEnd: FileDescriptor))
        do {
            pipes = (try FileDescriptor.pipe(), try FileDescriptor.pipe())
        } catch {
            return .ended(.failedToStart("cannot create pipes for the script's output: \(error)"))
        }
        let (stdout, stderr) = pipes
        let reader = OutputReader(output: stdout.readEnd.rawValue, error: stderr.readEnd.rawValue, maximumLineBytes: lineLimit, into: sink)
        do {
            let result = try await Subprocess.run(
                .path(FilePath(command.executable)),
                arguments: Arguments(command.arguments),
                environment: .inherit.updating(overrides),
                workingDirectory: FilePath(invocation.workingDirectory.path),
                platformOptions: options,
                input: .none,
                output: .fileDescriptor(stdout.writeEnd, closeAfterSpawningProcess: true),
                error: .fileDescriptor(stderr.writeEnd, closeAfterSpawningProcess: true)
            ) { execution in
                let pid = execution.processIdentifier.value
                leader.withLock { $0 = pid }
                reader.spawned(pid)
                return await withTaskGroup(of: Event.self) { tasks in
                    tasks.addTask {
                        await reader.finished()
                        return .drained
                    }
                    tasks.addTask {
                        do { try await Task.sleep(for: limit) } catch { return .watchdog(fired: false) }
                        guard ProcessGroup.isAlive(pid) else { return .watchdog(fired: false) }
                        await ProcessGroup(id: pid).terminate(grace: grace)
                        return .watchdog(fired: true)
                    }
                    var timedOut = false
                    while let event = await tasks.next() {
                        switch event {
                        case .drained: tasks.cancelAll()
                        case .watchdog(let fired): timedOut = fired
                        }
                    }
                    return timedOut
                }
            }
            if Task.isCancelled {
                await ProcessGroup(id: result.processIdentifier.value).terminate(grace: grace)
                return .ended(.cancelled)
            }
            if result.closureResult { return .ended(.timedOut(after: limit)) }
            switch result.terminationStatus {
            case .exited(let code): return .ended(.exited(code))
            case .signaled(let signal): return .ended(.signaled(signal))
            }
        } catch {
            // The body never throws: the start failed, or monitoring the process did (then end what is left).
            if let pid = leader.withLock({ $0 }) {
                await ProcessGroup(id: pid).terminate(grace: grace)
            } else {
                // Never spawned: nothing will write; the reader stops and closes the pipes.
                reader.abandon()
                await reader.finished()
                if !Task.isCancelled, (error as? SubprocessError)?.underlyingError == .textFileBusy {
                    return .busy(Self.reason(error))
                }
            }
            return .ended(Task.isCancelled ? .cancelled : .failedToStart(Self.reason(error)))
        }
    }

    /// A short reason for a failed start (the errno text when there is one).
    private static func reason(_ error: any Error) -> String {
        if let error = error as? SubprocessError, let underlying = error.underlyingError {
            return "\(underlying)"
        }
        return "\(error)"
    }
}
