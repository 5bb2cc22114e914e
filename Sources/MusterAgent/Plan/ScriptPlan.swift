import MusterCore

/// The ordered steps a node runs to configure itself (see "The agent's script phases" in DESIGN.md).
///
/// Built by ``full(listing:own:answer:)`` after release, or by ``incremental(listing:own:from:to:)`` when a
/// newer answer brings providers that joined later. Steps whose script is missing are left out and listed in
/// ``skipped``.
public struct ScriptPlan: Sendable, Hashable {
    /// The steps, in the order they run.
    public var steps: [PlanStep]
    /// The scripts the phase table calls for that the ctx-scripts folder does not hold, in table order.
    public var skipped: [ScriptRef]

    /// Creates a plan.
    public init(steps: [PlanStep], skipped: [ScriptRef] = []) {
        self.steps = steps
        self.skipped = skipped
    }

    /// The script steps, without the built-in ones.
    public var scripts: [ScriptStep] {
        steps.compactMap { step in
            if case .script(let script) = step { script } else { nil }
        }
    }
}

/// One step of a ``ScriptPlan``.
public enum PlanStep: Sendable, Hashable {
    /// Run one ctx-script.
    case script(ScriptStep)
    /// The built-in step: write the Muster block of `etc/hosts`, `etc/hosts.equiv` and `etc/ssh/ssh_known_hosts`
    /// under the node root. Idempotent, so it runs again on every resume and refresh.
    case hostFiles(HostFiles)
}

extension PlanStep {
    /// The name the built-in host-files step reports as its script (phase 0: it closes phase 0).
    public static let hostFilesScript = "built-in/hosts"

    /// What the step reports as ``ScriptRef`` before it runs (a `3-data` step's file path is not known yet).
    public var reference: ScriptRef {
        switch self {
        case .script(let step): step.key
        case .hostFiles: ScriptRef(phase: 0, script: PlanStep.hostFilesScript)
        }
    }
}

/// One run of one ctx-script.
public struct ScriptStep: Sendable, Hashable, CustomStringConvertible {
    /// The phase, 0–5.
    public var phase: Int
    /// The script, relative to the ctx-scripts folder (for example `1-ipandhost/rabbitmq-head`).
    public var script: String
    /// The arguments; empty for a `3-data` step, whose single argument is the value file made when it runs.
    public var arguments: [String]
    /// For a `3-data` step, the value to put in the file.
    public var data: DataValue?

    /// Creates a step.
    public init(phase: Int, script: String, arguments: [String] = [], data: DataValue? = nil) {
        self.phase = phase
        self.script = script
        self.arguments = arguments
        self.data = data
    }

    /// The step's identity in the progress record: phase, script and arguments, without the value file's path
    /// (which changes from run to run). Two steps with the same key do the same thing.
    public var key: ScriptRef { ScriptRef(phase: phase, script: script, arguments: arguments) }

    /// The reference reported while the step runs: with the value file's path for a `3-data` step.
    public func reference(dataFile: String?) -> ScriptRef {
        ScriptRef(phase: phase, script: script, arguments: arguments + (dataFile.map { [$0] } ?? []))
    }

    public var description: String { ([script] + arguments + (data.map { ["<\($0.name) value file>"] } ?? [])).joined(separator: " ") }
}
