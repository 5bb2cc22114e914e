/// Everything a launcher needs to start one node: where it is, what it boots, and how its agent reaches the
/// broker. Data values are not part of it: the agent fetches them from the broker once released.
public struct LaunchRequest: Sendable, Hashable {
    /// The context.
    public var context: ContextID
    /// The context's human name.
    public var contextName: String
    /// The node name.
    public var node: String
    /// The node's workspace name.
    public var workspace: String
    /// The image to boot (``WorkspaceSpec/image``).
    public var image: String
    /// The node's NICs.
    public var nics: [NICSpec]
    /// The slot generation (0 for the first launch, one more per retry).
    public var generation: Int
    /// The node's bearer token for this generation.
    public var token: String
    /// The broker URL the agent must use.
    public var brokerURL: String
    /// The longest one ctx-script may run (seconds), if the context sets it.
    public var scriptTimeoutSeconds: Int?

    /// Creates a request.
    public init(
        context: ContextID,
        contextName: String,
        node: String,
        workspace: String,
        image: String,
        nics: [NICSpec],
        generation: Int,
        token: String,
        brokerURL: String,
        scriptTimeoutSeconds: Int? = nil
    ) {
        self.context = context
        self.contextName = contextName
        self.node = node
        self.workspace = workspace
        self.image = image
        self.nics = nics
        self.generation = generation
        self.token = token
        self.brokerURL = brokerURL
        self.scriptTimeoutSeconds = scriptTimeoutSeconds
    }
}

/// Starts and stops nodes for a broker (local processes, cloud instances, …).
///
/// The broker calls these when the engine asks for a launch or a stop. A launcher reports what happened
/// through the ``LaunchReporter`` it is given; it never changes the broker's state any other way.
public protocol NodeLauncher: Sendable {
    /// What it launches on, in a word (`local`, `ec2`): the contexts view's launcher column.
    nonisolated var name: String { get }

    /// Starts a node. Returns once the start was attempted; reports `booted` or `launchFailed`.
    func launch(_ request: LaunchRequest, reporter: any LaunchReporter) async

    /// Stops a node (its whole process group or instance); a node that is not running is not an error.
    func stop(context: ContextID, node: String) async

    /// Stops every node the launcher started (the broker is shutting down and owns its nodes).
    func stopAll() async
}

/// How a launcher tells the broker what became of a launch.
public protocol LaunchReporter: Sendable {
    /// The node's process or VM is up.
    func booted(context: ContextID, node: String, generation: Int) async

    /// The node could not be started; `message` says why, for the operator.
    func launchFailed(context: ContextID, node: String, generation: Int, message: String) async

    /// The node's agent process ended on its own (not stopped by the launcher). A node that had not finished
    /// then fails, so that a crashed agent never leaves a node waiting forever.
    func agentExited(context: ContextID, node: String, generation: Int, status: Int32, message: String) async

    /// What the launcher knows of the machine behind a node (instance id, provider state, addresses); called
    /// whenever that changes. Has a default that does nothing.
    func machine(context: ContextID, node: String, generation: Int, details: MachineDetails) async
}

/// What a launcher can tell about the machine behind a node (a cloud instance), for the operator.
public struct MachineDetails: Sendable, Hashable, Codable {
    /// The provider's id of the machine (`i-0abc…` on EC2).
    public var instanceID: String
    /// The provider's state of the machine (`pending`, `running`, `shutting-down`, `terminated`, …).
    public var state: String
    /// The machine's private address, once known.
    public var privateIP: String?
    /// The machine's public address, once known.
    public var publicIP: String?
    /// The kind of machine (`t3.micro` on EC2).
    public var instanceType: String?
    /// Where it runs (an availability zone on EC2).
    public var zone: String?

    /// Creates details.
    public init(
        instanceID: String,
        state: String,
        privateIP: String? = nil,
        publicIP: String? = nil,
        instanceType: String? = nil,
        zone: String? = nil
    ) {
        self.instanceID = instanceID
        self.state = state
        self.privateIP = privateIP
        self.publicIP = publicIP
        self.instanceType = instanceType
        self.zone = zone
    }
}

extension LaunchReporter {
    /// The machine behind a node was created or changed state. Launchers of local processes never call it; the
    /// default does nothing, so reporters that do not show machines need not implement it.
    public func machine(context: ContextID, node: String, generation: Int, details: MachineDetails) async {}
}
