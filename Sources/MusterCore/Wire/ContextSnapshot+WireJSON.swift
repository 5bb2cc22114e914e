import Foundation

extension ContextSnapshot {
    /// The snapshot's JSON, exactly as ``WireFormat/encoder()`` encodes it, with its nodes written without
    /// `JSONEncoder`: a context of 10,000 nodes is a few megabytes that an operator's `muster status` and every
    /// console that opens it ask for.
    public func wireJSON() throws -> [UInt8] {
        var json = WireJSONWriter(capacity: 1024 + nodes.count * 600)
        try write(to: &json)
        return json.bytes
    }

    /// Writes the snapshot. The small, rarely read parts (workspaces, limits) go through `JSONEncoder`.
    func write(to json: inout WireJSONWriter) throws {
        let encoder = WireFormat.encoder()
        json.beginObject()
        json.key("createdAt")
        try json.anyTimestamp(createdAt)
        json.key("id")
        json.string(id.rawValue)
        if let limits {
            json.key("limits")
            json.raw(try encoder.encode(limits))
        }
        json.key("name")
        json.string(name)
        json.key("nodes")
        json.beginArray()
        for node in nodes { try node.write(to: &json, encoder: encoder) }
        json.endArray()
        json.key("roles")
        json.beginArray()
        for role in roles {
            json.beginObject()
            json.key("expected")
            json.int(role.expected)
            json.key("ready")
            json.int(role.ready)
            json.key("registered")
            json.int(role.registered)
            json.key("role")
            json.string(role.role)
            json.endObject()
        }
        json.endArray()
        json.key("sequence")
        json.int(sequence)
        json.key("status")
        status.write(to: &json)
        json.key("workspaces")
        json.raw(try encoder.encode(workspaces))
        json.endObject()
    }
}

extension NodeSnapshot {
    func write(to json: inout WireJSONWriter, encoder: JSONEncoder) throws {
        json.beginObject()
        json.key("answerVersion")
        json.int(answerVersion)
        if let exitCode {
            json.key("exitCode")
            json.int(exitCode)
        }
        json.key("generation")
        json.int(generation)
        json.key("identities")
        json.beginArray()
        for identity in identities { identity.write(to: &json) }
        json.endArray()
        if let machine {
            json.key("machine")
            json.raw(try encoder.encode(machine))
        }
        if let message {
            json.key("message")
            json.string(message)
        }
        json.key("name")
        json.string(name)
        if let releasedAt {
            json.key("releasedAt")
            try json.anyTimestamp(releasedAt)
        }
        json.key("requirements")
        json.beginArray()
        for requirement in requirements { try requirement.write(to: &json) }
        json.endArray()
        json.key("since")
        try json.anyTimestamp(since)
        json.key("slot")
        json.int(slot)
        json.key("state")
        json.string(state.rawValue)
        json.key("timeline")
        json.beginArray()
        for run in timeline {
            json.beginObject()
            if let exitCode = run.exitCode {
                json.key("exitCode")
                json.int(exitCode)
            }
            if let finished = run.finished {
                json.key("finished")
                try json.anyTimestamp(finished)
            }
            json.key("script")
            run.script.write(to: &json)
            json.key("started")
            try json.anyTimestamp(run.started)
            json.endObject()
        }
        json.endArray()
        json.key("workspace")
        json.string(workspace)
        json.endObject()
    }
}

extension RequirementStatus {
    func write(to json: inout WireJSONWriter) throws {
        json.beginObject()
        json.key("expected")
        json.int(expected)
        json.key("filled")
        json.int(filled)
        if let metSince {
            json.key("metSince")
            try json.anyTimestamp(metSince)
        }
        json.key("missing")
        json.strings(missing)
        if let role {
            json.key("role")
            json.string(role)
        }
        json.key("wait")
        json.string(wait.rawValue)
        json.endObject()
    }
}

extension ContextDetail {
    /// The detail's JSON, exactly as ``WireFormat/encoder()`` encodes it (see ``ContextSnapshot/wireJSON()``).
    public func wireJSON() throws -> [UInt8] {
        var json = WireJSONWriter(capacity: 1024 + context.nodes.count * 600)
        json.beginObject()
        json.key("context")
        try context.write(to: &json)
        json.key("data")
        json.raw(try WireFormat.encoder().encode(data))
        json.endObject()
        return json.bytes
    }
}

extension CreatedContext {
    /// The answer to a context's creation, exactly as ``WireFormat/encoder()`` encodes it, with its snapshot and
    /// one token per node written without `JSONEncoder`.
    public func wireJSON() throws -> [UInt8] {
        var json = WireJSONWriter(capacity: 1024 + context.nodes.count * 700)
        json.beginObject()
        json.key("context")
        try context.write(to: &json)
        json.key("credentials")
        json.beginArray()
        for credential in credentials {
            json.beginObject()
            json.key("generation")
            json.int(credential.generation)
            json.key("node")
            json.string(credential.node)
            json.key("token")
            json.string(credential.token)
            json.endObject()
        }
        json.endArray()
        json.key("warnings")
        json.raw(try WireFormat.encoder().encode(warnings))
        json.endObject()
        return json.bytes
    }
}

extension WireJSONWriter {
    /// Writes a date, through `JSONEncoder` when it is outside the years the writer formats itself.
    mutating func anyTimestamp(_ date: Date) throws {
        if timestamp(date) { return }
        raw(try WireFormat.encoder().encode(date))
    }
}
