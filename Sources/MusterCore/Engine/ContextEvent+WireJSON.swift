import Foundation

extension ContextEvent {
    /// The event's JSON, exactly as ``WireFormat/encoder()`` encodes it, written without `JSONEncoder` for the
    /// changes every node makes (a broker writes several per node: to its store and to every event stream).
    public func wireJSON() throws -> [UInt8] {
        var json = WireJSONWriter(capacity: 192)
        if write(to: &json) { return json.bytes }
        return Array(try WireFormat.encoder().encode(self))
    }

    /// Writes the event; `false` for the rare kinds left to `JSONEncoder` (and for values JSON cannot hold).
    private func write(to json: inout WireJSONWriter) -> Bool {
        json.beginObject()
        json.key("context")
        json.string(context.rawValue)
        switch change {
        case .nodeAdded(let node, let workspace), .nodeRemoved(let node, let workspace):
            kind(&json)
            json.key("node")
            json.string(node)
            guard sequenceAndTime(&json) else { return false }
            json.key("workspace")
            json.string(workspace)
        case .nodeState(let transition):
            if let exitCode = transition.exitCode {
                json.key("exitCode")
                json.int(exitCode)
            }
            json.key("from")
            json.string(transition.from.rawValue)
            kind(&json)
            if let message = transition.message {
                json.key("message")
                json.string(message)
            }
            json.key("node")
            json.string(transition.node)
            guard sequenceAndTime(&json) else { return false }
            json.key("to")
            json.string(transition.to.rawValue)
            if let waitingOn = transition.waitingOn {
                json.key("waitingOn")
                json.strings(waitingOn)
            }
        case .nodeRegistered(let node, let identities):
            json.key("identities")
            json.beginArray()
            for identity in identities { identity.write(to: &json) }
            json.endArray()
            kind(&json)
            json.key("node")
            json.string(node)
            guard sequenceAndTime(&json) else { return false }
        case .roleProgress(let status):
            json.key("expected")
            json.int(status.expected)
            kind(&json)
            json.key("ready")
            json.int(status.ready)
            json.key("registered")
            json.int(status.registered)
            json.key("role")
            json.string(status.role)
            guard sequenceAndTime(&json) else { return false }
        case .registrationProgress(let registered, let expected):
            json.key("expected")
            json.int(expected)
            kind(&json)
            json.key("registered")
            json.int(registered)
            guard sequenceAndTime(&json) else { return false }
        case .scriptStarted(let node, let script):
            kind(&json)
            json.key("node")
            json.string(node)
            json.key("script")
            script.write(to: &json)
            guard sequenceAndTime(&json) else { return false }
        case .scriptFinished(let node, let script, let exitCode, let seconds):
            json.key("exitCode")
            json.int(exitCode)
            kind(&json)
            json.key("node")
            json.string(node)
            json.key("script")
            script.write(to: &json)
            json.key("seconds")
            guard json.double(seconds), sequenceAndTime(&json) else { return false }
        case .providerJoined(let node, let roles, let requirers):
            kind(&json)
            json.key("node")
            json.string(node)
            json.key("requirers")
            json.strings(requirers)
            json.key("roles")
            json.strings(roles)
            guard sequenceAndTime(&json) else { return false }
        case .contextStatus(let status):
            kind(&json)
            json.key("sequence")
            json.int(sequence)
            json.key("status")
            status.write(to: &json)
            json.key("time")
            guard json.timestamp(time) else { return false }
        case .contextTerminated, .contextDeleted:
            kind(&json)
            guard sequenceAndTime(&json) else { return false }
        case .contextCreated, .contextLimits, .nodeMachine:
            return false
        }
        json.endObject()
        return true
    }

    private func kind(_ json: inout WireJSONWriter) {
        json.key("kind")
        json.string(change.kind)
    }

    private func sequenceAndTime(_ json: inout WireJSONWriter) -> Bool {
        json.key("sequence")
        json.int(sequence)
        json.key("time")
        return json.timestamp(time)
    }
}

extension WireJSONWriter {
    /// Writes an array of strings.
    mutating func strings(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }
}

extension Identity {
    /// Writes the identity as its `Codable` form does, keys sorted.
    func write(to json: inout WireJSONWriter) {
        json.beginObject()
        json.key("hostname")
        json.string(hostname)
        json.key("interface")
        json.string(interface)
        json.key("ip")
        json.string(ip)
        json.key("pubkey")
        json.string(pubkey)
        json.endObject()
    }
}

extension ScriptRef {
    /// Writes the script as its `Codable` form does, keys sorted.
    func write(to json: inout WireJSONWriter) {
        json.beginObject()
        json.key("arguments")
        json.strings(arguments)
        json.key("phase")
        json.int(phase)
        json.key("script")
        json.string(script)
        json.endObject()
    }
}

extension ContextStatus {
    /// Writes the status as its `Codable` form does, keys sorted (the counts by their state's name).
    func write(to json: inout WireJSONWriter) {
        json.beginObject()
        json.key("allOk")
        json.bool(allOk)
        json.key("complete")
        json.bool(complete)
        json.key("counts")
        json.beginObject()
        for (state, count) in counts.sorted(by: { $0.key.rawValue.utf8.lexicographicallyPrecedes($1.key.rawValue.utf8) }) {
            json.key(state.rawValue)
            json.int(count)
        }
        json.endObject()
        json.key("errorPresent")
        json.bool(errorPresent)
        json.key("expected")
        json.int(expected)
        json.key("registered")
        json.int(registered)
        json.key("terminated")
        json.bool(terminated)
        json.endObject()
    }
}
