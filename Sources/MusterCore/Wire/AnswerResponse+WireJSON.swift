import Foundation

extension AnswerResponse {
    /// The answer's JSON, exactly as ``WireFormat/encoder()`` encodes it, written without `JSONEncoder`: every node
    /// gets at least one. `identitiesJSON`, when given, is written in place of the answer's identities list: the
    /// caller's encoding of that same list (``identitiesWireJSON(_:)``), kept while it does not change.
    public func wireJSON(identitiesJSON: [UInt8]? = nil) throws -> [UInt8] {
        var json = WireJSONWriter(capacity: 512 + (identitiesJSON?.count ?? 0))
        if write(to: &json, identitiesJSON: identitiesJSON) { return json.bytes }
        return Array(try WireFormat.encoder().encode(self))
    }

    /// The JSON of an answer's identities list, as ``wireJSON(identitiesJSON:)`` writes it.
    public static func identitiesWireJSON(_ identities: [NodeIdentities]) -> [UInt8] {
        var json = WireJSONWriter(capacity: identities.count * 200)
        write(identities, to: &json)
        return json.bytes
    }

    private func write(to json: inout WireJSONWriter, identitiesJSON: [UInt8]?) -> Bool {
        json.beginObject()
        if let answer {
            json.key("answer")
            json.beginObject()
            json.key("data")
            json.beginArray()
            for item in answer.data {
                json.beginObject()
                json.key("name")
                json.string(item.name)
                json.key("value")
                json.string(item.value)
                json.endObject()
            }
            json.endArray()
            json.key("identities")
            if let identitiesJSON {
                json.raw(identitiesJSON)
            } else {
                Self.write(answer.identities, to: &json)
            }
            json.key("roles")
            json.beginArray()
            for role in answer.roles {
                json.beginObject()
                json.key("hostname")
                json.bool(role.hostname)
                json.key("providers")
                json.beginArray()
                for provider in role.providers {
                    json.beginObject()
                    json.key("identity")
                    provider.identity.write(to: &json)
                    json.key("node")
                    json.string(provider.node)
                    json.endObject()
                }
                json.endArray()
                json.key("pubkey")
                json.bool(role.pubkey)
                json.key("role")
                json.string(role.role)
                json.endObject()
            }
            json.endArray()
            json.key("version")
            json.int(answer.version)
            json.endObject()
        }
        json.key("released")
        json.bool(released)
        json.key("requirements")
        json.beginArray()
        for requirement in requirements {
            guard (try? requirement.write(to: &json)) != nil else { return false }
        }
        json.endArray()
        json.key("state")
        json.string(state.rawValue)
        if let terminated {
            json.key("terminated")
            json.bool(terminated)
        }
        json.endObject()
        return true
    }

    private static func write(_ identities: [NodeIdentities], to json: inout WireJSONWriter) {
        json.beginArray()
        for node in identities {
            json.beginObject()
            json.key("identities")
            json.beginArray()
            for identity in node.identities { identity.write(to: &json) }
            json.endArray()
            json.key("node")
            json.string(node.node)
            json.endObject()
        }
        json.endArray()
    }
}
