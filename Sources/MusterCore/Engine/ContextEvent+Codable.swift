import Foundation

/// Events travel as one flat JSON object each (in the SSE stream, in `--json` output, in the store):
/// `{"sequence": 7, "time": …, "context": "c1", "kind": "node-state", "node": "web-0", "from": "booted", "to": "registered"}`.
/// The `kind` names the change; the other keys are that change's fields.
extension ContextEvent: Codable {
    enum CodingKeys: String, CodingKey {
        case sequence, time, context, kind
        case name, workspaces, nodes, node, workspace, from, to, exitCode, message, waitingOn, identities
        case role, registered, ready, expected, script, seconds, roles, requirers, status, limits, machine
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sequence = try container.decode(UInt64.self, forKey: .sequence)
        time = try container.decode(Date.self, forKey: .time)
        context = try container.decode(ContextID.self, forKey: .context)
        let kind = try container.decode(String.self, forKey: .kind)
        func node() throws -> String { try container.decode(String.self, forKey: .node) }
        switch kind {
        case "context-created":
            change = .contextCreated(
                name: try container.decode(String.self, forKey: .name),
                workspaces: try container.decode([String].self, forKey: .workspaces),
                nodes: try container.decode([String].self, forKey: .nodes)
            )
        case "node-added":
            change = .nodeAdded(node: try node(), workspace: try container.decode(String.self, forKey: .workspace))
        case "node-removed":
            change = .nodeRemoved(node: try node(), workspace: try container.decode(String.self, forKey: .workspace))
        case "node-state":
            change = .nodeState(
                NodeTransition(
                    node: try node(),
                    from: try container.decode(NodeState.self, forKey: .from),
                    to: try container.decode(NodeState.self, forKey: .to),
                    exitCode: try container.decodeIfPresent(Int.self, forKey: .exitCode),
                    message: try container.decodeIfPresent(String.self, forKey: .message),
                    waitingOn: try container.decodeIfPresent([String].self, forKey: .waitingOn)
                )
            )
        case "node-registered":
            change = .nodeRegistered(node: try node(), identities: try container.decode([Identity].self, forKey: .identities))
        case "role-progress":
            change = .roleProgress(
                RoleStatus(
                    role: try container.decode(String.self, forKey: .role),
                    registered: try container.decode(Int.self, forKey: .registered),
                    ready: try container.decode(Int.self, forKey: .ready),
                    expected: try container.decode(Int.self, forKey: .expected)
                )
            )
        case "registration-progress":
            change = .registrationProgress(
                registered: try container.decode(Int.self, forKey: .registered),
                expected: try container.decode(Int.self, forKey: .expected)
            )
        case "script-started":
            change = .scriptStarted(node: try node(), script: try container.decode(ScriptRef.self, forKey: .script))
        case "script-finished":
            change = .scriptFinished(
                node: try node(),
                script: try container.decode(ScriptRef.self, forKey: .script),
                exitCode: try container.decode(Int.self, forKey: .exitCode),
                seconds: try container.decode(Double.self, forKey: .seconds)
            )
        case "provider-joined":
            change = .providerJoined(
                node: try node(),
                roles: try container.decode([String].self, forKey: .roles),
                requirers: try container.decode([String].self, forKey: .requirers)
            )
        case "context-status":
            change = .contextStatus(try container.decode(ContextStatus.self, forKey: .status))
        case "context-terminated":
            change = .contextTerminated
        case "context-deleted":
            change = .contextDeleted
        case "context-limits":
            change = .contextLimits(try container.decode(ContextLimits.self, forKey: .limits))
        case "node-machine":
            change = .nodeMachine(node: try node(), machine: try container.decode(MachineDetails.self, forKey: .machine))
        default:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "unknown event kind '\(kind)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(time, forKey: .time)
        try container.encode(context, forKey: .context)
        try container.encode(change.kind, forKey: .kind)
        switch change {
        case .contextCreated(let name, let workspaces, let nodes):
            try container.encode(name, forKey: .name)
            try container.encode(workspaces, forKey: .workspaces)
            try container.encode(nodes, forKey: .nodes)
        case .nodeAdded(let node, let workspace), .nodeRemoved(let node, let workspace):
            try container.encode(node, forKey: .node)
            try container.encode(workspace, forKey: .workspace)
        case .nodeState(let transition):
            try container.encode(transition.node, forKey: .node)
            try container.encode(transition.from, forKey: .from)
            try container.encode(transition.to, forKey: .to)
            try container.encodeIfPresent(transition.exitCode, forKey: .exitCode)
            try container.encodeIfPresent(transition.message, forKey: .message)
            try container.encodeIfPresent(transition.waitingOn, forKey: .waitingOn)
        case .nodeRegistered(let node, let identities):
            try container.encode(node, forKey: .node)
            try container.encode(identities, forKey: .identities)
        case .roleProgress(let status):
            try container.encode(status.role, forKey: .role)
            try container.encode(status.registered, forKey: .registered)
            try container.encode(status.ready, forKey: .ready)
            try container.encode(status.expected, forKey: .expected)
        case .registrationProgress(let registered, let expected):
            try container.encode(registered, forKey: .registered)
            try container.encode(expected, forKey: .expected)
        case .scriptStarted(let node, let script):
            try container.encode(node, forKey: .node)
            try container.encode(script, forKey: .script)
        case .scriptFinished(let node, let script, let exitCode, let seconds):
            try container.encode(node, forKey: .node)
            try container.encode(script, forKey: .script)
            try container.encode(exitCode, forKey: .exitCode)
            try container.encode(seconds, forKey: .seconds)
        case .providerJoined(let node, let roles, let requirers):
            try container.encode(node, forKey: .node)
            try container.encode(roles, forKey: .roles)
            try container.encode(requirers, forKey: .requirers)
        case .contextStatus(let status):
            try container.encode(status, forKey: .status)
        case .contextTerminated, .contextDeleted:
            break
        case .contextLimits(let limits):
            try container.encode(limits, forKey: .limits)
        case .nodeMachine(let node, let machine):
            try container.encode(node, forKey: .node)
            try container.encode(machine, forKey: .machine)
        }
    }
}
