import Foundation

// The request and response bodies of the broker's HTTP API (`/v1`), shared by the broker and MusterClient.
// The README's "Broker API" section lists the routes.

/// One context in a list: its id, name and status, without its nodes.
public struct ContextSummary: Sendable, Hashable, Codable {
    /// The context id.
    public var id: ContextID
    /// Its human name.
    public var name: String
    /// When it was created.
    public var createdAt: Date
    /// Its overall status.
    public var status: ContextStatus
    /// Its time limits, if it has any (the lease's end, for a contexts view).
    public var limits: ContextLimits?
    /// Who launches its nodes: the broker's own launcher (`local`, `ec2`), or, for a broker that leaves launching
    /// to others, `external` (a `muster up --broker` elsewhere, or instances booted from userdata), `ec2 (ext)` once
    /// one of its nodes is known to be an EC2 instance. Absent from brokers that predate it.
    public var launcher: String?

    /// Creates a summary.
    public init(id: ContextID, name: String, createdAt: Date, status: ContextStatus, limits: ContextLimits? = nil, launcher: String? = nil) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.status = status
        self.limits = limits
        self.launcher = launcher
    }
}

/// The time limits asked for when a context is created (`POST /v1/contexts?bootTimeout=S&lease=S&deadline=S`),
/// in seconds from its creation; the broker turns them into ``ContextLimits``.
public struct ContextLimitRequest: Sendable, Hashable, Codable {
    /// How long a launched node may take to check in.
    public var bootTimeoutSeconds: Int?
    /// How long the context may live: then it is terminated, every node stopped (Nimbus's `--hours`).
    public var leaseSeconds: Int?
    /// How long the context may take to complete: then its unfinished nodes time out.
    public var deadlineSeconds: Int?

    /// Creates a request.
    public init(bootTimeoutSeconds: Int? = nil, leaseSeconds: Int? = nil, deadlineSeconds: Int? = nil) {
        self.bootTimeoutSeconds = bootTimeoutSeconds
        self.leaseSeconds = leaseSeconds
        self.deadlineSeconds = deadlineSeconds
    }

    /// Whether nothing is asked for.
    public var isEmpty: Bool { bootTimeoutSeconds == nil && leaseSeconds == nil && deadlineSeconds == nil }

    /// The limits, counted from `start`.
    public func limits(from start: Date) -> ContextLimits {
        ContextLimits(
            bootTimeoutSeconds: bootTimeoutSeconds,
            leaseEnds: leaseSeconds.map { start.addingTimeInterval(TimeInterval($0)) },
            completeBy: deadlineSeconds.map { start.addingTimeInterval(TimeInterval($0)) }
        )
    }
}

/// `GET /v1/contexts`.
public struct ContextList: Sendable, Hashable, Codable {
    /// Every context, oldest first.
    public var contexts: [ContextSummary]

    /// Creates a list.
    public init(contexts: [ContextSummary]) {
        self.contexts = contexts
    }
}

/// A node's bearer token, handed out once when a slot is created or retried (only its hash is stored).
public struct NodeCredential: Sendable, Hashable, Codable {
    /// The node.
    public var node: String
    /// The slot generation the token is valid for (a retry mints a new one).
    public var generation: Int
    /// The token.
    public var token: String

    /// Creates a credential.
    public init(node: String, generation: Int, token: String) {
        self.node = node
        self.generation = generation
        self.token = token
    }
}

/// A data value as operator views show it: never the value, only enough to tell two apart.
public struct MaskedData: Sendable, Hashable, Codable {
    /// The data name.
    public var name: String
    /// The value's size in bytes (UTF-8).
    public var size: Int
    /// The first 12 hexadecimal digits of the value's SHA-256.
    public var sha256: String

    /// Creates a masked value.
    public init(name: String, size: Int, sha256: String) {
        self.name = name
        self.size = size
        self.sha256 = sha256
    }
}

/// `GET /v1/contexts/{id}`: a context snapshot with its data values masked.
public struct ContextDetail: Sendable, Hashable, Codable {
    /// The context.
    public var context: ContextSnapshot
    /// Per workspace, its data values, masked.
    public var data: [String: [MaskedData]]

    /// Creates a detail.
    public init(context: ContextSnapshot, data: [String: [MaskedData]]) {
        self.context = context
        self.data = data
    }
}

/// `POST /v1/contexts`: the created context and the node tokens (shown only here).
public struct CreatedContext: Sendable, Hashable, Codable {
    /// The new context.
    public var context: ContextSnapshot
    /// One token per node.
    public var credentials: [NodeCredential]
    /// Warnings from validating the document.
    public var warnings: [Diagnostic]

    /// Creates a response.
    public init(context: ContextSnapshot, credentials: [NodeCredential], warnings: [Diagnostic]) {
        self.context = context
        self.credentials = credentials
        self.warnings = warnings
    }
}

/// `POST /v1/contexts/{id}/workspaces/{workspace}/nodes`.
public struct AddNodesRequest: Sendable, Hashable, Codable {
    /// How many nodes to add.
    public var count: Int
    /// Whether to launch them at once (default true).
    public var launch: Bool?

    /// Creates a request.
    public init(count: Int, launch: Bool? = nil) {
        self.count = count
        self.launch = launch
    }
}

/// The result of an operator action on nodes (launch, add, retry, kill): the nodes as they are now, and any
/// tokens the action minted.
public struct ActionResult: Sendable, Hashable, Codable {
    /// The nodes the action touched, after it.
    public var nodes: [NodeSnapshot]
    /// New node tokens (for retried or added nodes).
    public var credentials: [NodeCredential]

    /// Creates a result.
    public init(nodes: [NodeSnapshot], credentials: [NodeCredential] = []) {
        self.nodes = nodes
        self.credentials = credentials
    }
}

/// `POST /v1/contexts/{id}/nodes/{node}/launch-report`: what an external launcher (one that is not inside the
/// broker, such as `muster up --broker URL`) saw of a launch it made after a claim. The broker takes it as its own
/// launcher's word, for the generation named only: a report about an older generation is ignored.
public struct LaunchReport: Sendable, Hashable, Codable {
    /// What happened.
    public enum Event: String, Sendable, Hashable, Codable {
        /// The node's process or machine is up.
        case booted
        /// The node could not be started.
        case failed
        /// The node's agent ended on its own.
        case exited
        /// The machine behind the node was created or changed (instance id, provider state, addresses).
        case machine
    }

    /// The slot generation the launch was for.
    public var generation: Int
    /// What happened.
    public var event: Event
    /// For people: why it failed, or how the agent ended.
    public var message: String?
    /// For ``Event/exited``: the agent's exit status.
    public var status: Int?
    /// For ``Event/machine``: what the launcher knows of the machine.
    public var machine: MachineDetails?

    /// Creates a report.
    public init(generation: Int, event: Event, message: String? = nil, status: Int? = nil, machine: MachineDetails? = nil) {
        self.generation = generation
        self.event = event
        self.message = message
        self.status = status
        self.machine = machine
    }
}

/// `GET /v1/contexts/{id}/nodes/{node}/output?from=N&limit=M`: one page of a node's output.
public struct OutputPage: Sendable, Hashable, Codable {
    /// Lines with index ≥ `from`, oldest first.
    public var lines: [OutputLine]
    /// The index to ask for next (`from` of the next page).
    public var next: Int
    /// How many lines the node's current generation has produced so far.
    public var total: Int

    /// Creates a page.
    public init(lines: [OutputLine], next: Int, total: Int) {
        self.lines = lines
        self.next = next
        self.total = total
    }
}

/// `GET /v1/snapshot`: every context (or one) at one event sequence number, for a follower to start from.
public struct BrokerSnapshot: Sendable, Hashable, Codable {
    /// The last event included; follow the event stream from here.
    public var sequence: UInt64
    /// The contexts.
    public var contexts: [ContextSnapshot]

    /// Creates a snapshot.
    public init(sequence: UInt64, contexts: [ContextSnapshot]) {
        self.sequence = sequence
        self.contexts = contexts
    }
}

/// `GET /v1/healthz`.
public struct HealthStatus: Sendable, Hashable, Codable {
    /// `ok` while the broker serves.
    public var status: String
    /// The broker's version.
    public var version: String
    /// Whether the broker starts nodes itself (it has a launcher, as `muster up`'s embedded broker does), rather
    /// than leaving them to an external launcher that claims them; `nil` from brokers that do not say.
    public var launchesNodes: Bool?
    /// Where the broker keeps its state: `sqlite`, `postgres` or `memory`; `nil` from brokers that do not say.
    public var store: String?
    /// Which broker answered, among replicas sharing one store (`muster broker --name`, by default the address
    /// it listens on); `nil` from brokers that do not say.
    public var replica: String?

    /// The `muster-agent` binaries served to stock images (`GET /v1/agent/linux/{arch}`); `nil` from brokers that
    /// do not say, empty when it serves none.
    public var agents: [AgentBinaryHealth]?

    /// Creates a health status.
    public init(
        status: String,
        version: String,
        launchesNodes: Bool? = nil,
        store: String? = nil,
        replica: String? = nil,
        agents: [AgentBinaryHealth]? = nil
    ) {
        self.status = status
        self.version = version
        self.launchesNodes = launchesNodes
        self.store = store
        self.replica = replica
        self.agents = agents
    }

    /// "replica NAME, postgres" for a broker whose store replicas share; `nil` for one broker on its own store.
    public var replicaSummary: String? {
        guard store == "postgres" else { return nil }
        return [replica.map { "replica \($0)" }, store].compactMap { $0 }.joined(separator: ", ")
    }
}

/// One agent binary a broker serves, as `/v1/healthz` shows it.
public struct AgentBinaryHealth: Sendable, Hashable, Codable {
    /// The architecture, as `uname -m` names it.
    public var architecture: String
    /// The served file's name (not its path).
    public var file: String
    /// Its hex SHA-256.
    public var sha256: String
    /// `static` (needs no Swift runtime: starts on a stock image), `dynamic` (needs the toolchain's
    /// `libswiftCore.so` and the like), or `unknown` (not an ELF executable).
    public var linkage: String

    /// Creates the description of one binary.
    public init(architecture: String, file: String, sha256: String, linkage: String) {
        self.architecture = architecture
        self.file = file
        self.sha256 = sha256
        self.linkage = linkage
    }
}

// MARK: Agent API

/// `POST /v1/contexts/{id}/nodes/{node}/checkin?wait=S`: one identity per NIC.
///
/// Without `wait` the broker answers at once with an ``AnswerResponse``. With `wait` the check-in is also the
/// node's first long-poll: the broker answers at once when the node is already released (or its life on the
/// broker ended), and otherwise holds the request as `GET …/answer?wait=S` does, so that an agent whose providers
/// come in meanwhile is released in one request.
public struct CheckInRequest: Sendable, Hashable, Codable {
    /// The node's identities.
    public var identities: [Identity]

    /// Creates a request.
    public init(identities: [Identity]) {
        self.identities = identities
    }
}

/// `GET /v1/contexts/{id}/nodes/{node}/answer?after=V&wait=S`: the long-poll answer.
///
/// The request is held until the node is released with an answer newer than version `after`, or until the
/// server's wait ends; then `released` is false (or the version is not newer) and the agent simply asks again.
public struct AnswerResponse: Sendable, Hashable, Codable {
    /// Whether the node is released.
    public var released: Bool
    /// The node's state.
    public var state: NodeState
    /// The node's requirements and how far each is from being met.
    public var requirements: [RequirementStatus]
    /// The answer, once released.
    public var answer: NodeAnswer?
    /// Whether the node's context was terminated: the node's agent has nothing more to wait for and may detach.
    /// Absent (nil) from brokers that predate it, and while the context runs.
    public var terminated: Bool?

    /// Creates a response.
    public init(released: Bool, state: NodeState, requirements: [RequirementStatus], answer: NodeAnswer?, terminated: Bool? = nil) {
        self.released = released
        self.state = state
        self.requirements = requirements
        self.answer = answer
        self.terminated = terminated
    }

    /// Whether an agent should stop waiting for answers: its node was stopped (killed, failed, timed out) or its
    /// context ended. An `ok` node is not done: it stays attached, held by long-polls, for late providers.
    public var isFinal: Bool {
        terminated == true || state == .failed || state == .killed || state == .timedOut
    }
}

/// `POST /v1/contexts/{id}/nodes/{node}/output`: lines in order, numbered by the agent from 0.
///
/// Lines the broker already has (index below its count) are skipped, so a retried request delivers each
/// line once; a gap is refused with 409 and the index the broker expects.
public struct OutputAppendRequest: Sendable, Hashable, Codable {
    /// The lines, with consecutive indexes.
    public var lines: [OutputLine]

    /// Creates a request.
    public init(lines: [OutputLine]) {
        self.lines = lines
    }
}

/// The broker's reply to an output append: how many lines it now holds (the next index it expects).
public struct OutputAppendResult: Sendable, Hashable, Codable {
    /// The next index the broker expects.
    public var next: Int

    /// Creates a result.
    public init(next: Int) {
        self.next = next
    }
}

/// `POST /v1/contexts/{id}/nodes/{node}/scripts`: a script started (no exit code) or finished.
public struct ScriptReport: Sendable, Hashable, Codable {
    /// The script.
    public var script: ScriptRef
    /// Its exit code, when it finished.
    public var exitCode: Int?

    /// Creates a report.
    public init(script: ScriptRef, exitCode: Int? = nil) {
        self.script = script
        self.exitCode = exitCode
    }
}

/// `POST /v1/contexts/{id}/nodes/{node}/report`: the node's final result, and what the agent had not told yet.
///
/// The report may carry the tail of the agent's outbox, so that a quiet node tells its whole story in one
/// request: its last output `lines` (appended before the result is applied, by the rules of
/// `POST …/output`: lines the broker already holds are skipped, a gap is refused with 409 `output-gap` and the
/// index the broker expects, and then nothing of the report is applied) and its last `scripts` reports (applied
/// in order after the lines, before the result). A broker that took a tail answers with an
/// ``OutputAppendResult``; one that predates tails answers 204 and ignored them.
public struct ResultReport: Sendable, Hashable, Codable {
    /// Whether every script finished OK.
    public var ok: Bool
    /// The exit code when not ok (see ``NodeExitCode``).
    public var code: Int?
    /// Why, when not ok.
    public var message: String?
    /// The output lines not yet sent, with consecutive indexes (absent: none).
    public var lines: [OutputLine]?
    /// The script reports not yet sent, in the order they happened (absent: none).
    public var scripts: [ScriptReport]?

    /// Creates a report.
    public init(ok: Bool, code: Int? = nil, message: String? = nil, lines: [OutputLine]? = nil, scripts: [ScriptReport]? = nil) {
        self.ok = ok
        self.code = code
        self.message = message
        self.lines = lines
        self.scripts = scripts
    }

    /// The report for a result, carrying the `lines` and `scripts` not yet sent (empty ones are left out).
    public init(_ result: NodeResult, lines: [OutputLine] = [], scripts: [ScriptReport] = []) {
        switch result {
        case .ok: self.init(ok: true)
        case .error(let code, let message): self.init(ok: false, code: code, message: message)
        }
        self.lines = lines.isEmpty ? nil : lines
        self.scripts = scripts.isEmpty ? nil : scripts
    }

    /// Whether the report carries lines or script reports besides its result.
    public var hasTail: Bool { !(lines ?? []).isEmpty || !(scripts ?? []).isEmpty }

    /// The result the report stands for.
    public var result: NodeResult {
        ok ? .ok : .error(code: code ?? NodeExitCode.execution, message: message ?? "failed")
    }
}

// MARK: Errors

/// The body of every error response: `{"error": {"code": "…", "message": "…"}}`.
public struct APIErrorBody: Sendable, Hashable, Codable {
    /// The error.
    public struct Detail: Sendable, Hashable, Codable {
        /// A stable, machine-readable code (for example `unknown-node`, `invalid-document`).
        public var code: String
        /// What went wrong and what to do, for a person.
        public var message: String
        /// For an invalid cluster document: every diagnostic.
        public var diagnostics: [Diagnostic]?
        /// For an output gap: the index the broker expects next.
        public var expected: Int?

        /// Creates a detail.
        public init(code: String, message: String, diagnostics: [Diagnostic]? = nil, expected: Int? = nil) {
            self.code = code
            self.message = message
            self.diagnostics = diagnostics
            self.expected = expected
        }
    }

    /// The error.
    public var error: Detail

    /// Creates a body.
    public init(_ error: Detail) {
        self.error = error
    }
}
