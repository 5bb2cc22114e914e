import MusterCore

/// Where the agent's progress goes while it configures the node: to the broker through MusterClient in
/// `muster-agent`, to a recorder in tests.
///
/// Calls arrive in order, one at a time, from the task running the phases: `scriptStarted`, the script's
/// `output` lines, then `scriptFinished`. They do not throw: a broker that is away is the reporter's problem
/// (``BrokerOutbox`` queues and delivers later, in order, once); the scripts go on meanwhile. A reporter that
/// takes its time slows the phases (back-pressure), so the broker's reporter only queues, and waits only when its
/// queue is full.
public protocol AgentReporting: Sendable {
    /// A script (or the built-in host-files step) starts, with the arguments it runs with.
    func scriptStarted(_ script: ScriptRef) async

    /// It finished with this exit code (see ``ScriptOutcome/exitCode``).
    func scriptFinished(_ script: ScriptRef, exitCode: Int) async

    /// One line of output: the script's stdout or stderr, or a line of the agent's own about the run.
    func output(_ line: OutputLine) async
}
