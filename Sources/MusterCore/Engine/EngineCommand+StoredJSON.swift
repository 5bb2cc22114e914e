import Foundation

extension EngineCommand {
    /// The command as a broker stores it: its `Codable` form (`{"checkIn": {"context": …, …}}`), decoded by a plain
    /// `JSONDecoder`. The commands every node sends (check-ins, script and result reports, launch steps) are written
    /// without `JSONEncoder`; the rest (a context's creation with its whole document, limits, …) go through it.
    public func storedJSON() throws -> [UInt8] {
        var json = WireJSONWriter(capacity: 160)
        if write(to: &json) { return json.bytes }
        return Array(try JSONEncoder().encode(self))
    }

    private func write(to json: inout WireJSONWriter) -> Bool {
        json.beginObject()
        switch self {
        case .checkIn(let context, let node, let identities):
            json.key("checkIn")
            begin(&json, context: context, node: node)
            json.key("identities")
            json.beginArray()
            for identity in identities { identity.write(to: &json) }
            json.endArray()
        case .scriptStarted(let context, let node, let script):
            json.key("scriptStarted")
            begin(&json, context: context, node: node)
            json.key("script")
            script.write(to: &json)
        case .scriptFinished(let context, let node, let script, let exitCode):
            json.key("scriptFinished")
            begin(&json, context: context, node: node)
            json.key("exitCode")
            json.int(exitCode)
            json.key("script")
            script.write(to: &json)
        case .report(let context, let node, let result):
            json.key("report")
            begin(&json, context: context, node: node)
            json.key("result")
            json.beginObject()
            switch result {
            case .ok:
                json.key("ok")
                json.beginObject()
                json.endObject()
            case .error(let code, let message):
                json.key("error")
                json.beginObject()
                json.key("code")
                json.int(code)
                json.key("message")
                json.string(message)
                json.endObject()
            }
            json.endObject()
        case .launch(let context, let node), .booted(let context, let node), .kill(let context, let node), .retry(let context, let node):
            json.key(caseName)
            begin(&json, context: context, node: node)
        default:
            return false
        }
        json.endObject()
        json.endObject()
        return true
    }

    /// The name of a case that has only a context and a node: its key in the `Codable` form.
    private var caseName: StaticString {
        switch self {
        case .launch: "launch"
        case .booted: "booted"
        case .kill: "kill"
        default: "retry"
        }
    }

    /// Opens the case's object with the two fields every node command has.
    private func begin(_ json: inout WireJSONWriter, context: ContextID, node: String) {
        json.beginObject()
        json.key("context")
        json.string(context.rawValue)
        json.key("node")
        json.string(node)
    }
}
