/// The broker's HTTP routes, shared by the broker (which registers them) and MusterClient (which calls them), so
/// that the two can never disagree on a path.
///
/// Operator routes need the operator token; agent routes need the token of the node named in the path;
/// `/v1/healthz` and `/metrics` need none.
///
/// | method | path | body → response |
/// |---|---|---|
/// | GET | `/v1/contexts` | → ``ContextList`` |
/// | POST | `/v1/contexts?name=N&launch=true` | cluster XML → 201 ``CreatedContext`` (422 with diagnostics) |
/// | GET | `/v1/contexts/{id}` | → ``ContextDetail`` |
/// | POST | `/v1/contexts/{id}/launch` | → ``ActionResult`` (launches every pending node) |
/// | POST | `/v1/contexts/{id}/terminate` | → ``ContextSummary`` |
/// | POST | `/v1/contexts/{id}/workspaces/{workspace}/nodes` | ``AddNodesRequest`` → 201 ``ActionResult`` |
/// | GET | `/v1/contexts/{id}/nodes/{node}` | → ``NodeSnapshot`` |
/// | GET | `/v1/contexts/{id}/nodes/{node}/output?from=N&limit=M` | → ``OutputPage`` (lines with index ≥ N) |
/// | GET | `/v1/contexts/{id}/nodes/{node}/output/stream?from=N` | → SSE, `event: output`, `id:` line index, data ``OutputLine``; resumes after `Last-Event-ID` |
/// | POST | `/v1/contexts/{id}/nodes/{node}/retry` | → ``ActionResult`` (with the new token) |
/// | POST | `/v1/contexts/{id}/nodes/{node}/kill` | → ``ActionResult`` |
/// | POST | `/v1/contexts/{id}/nodes/{node}/claim` | → ``ActionResult`` (a fresh token for an external launcher; 409 unless `launching`) |
/// | POST | `/v1/contexts/{id}/nodes/{node}/launch-report` | ``LaunchReport`` → 204 (an external launcher's word on a launch) |
/// | GET | `/v1/snapshot?context=ID` | → ``BrokerSnapshot`` |
/// | GET | `/v1/events?context=ID&after=N` | → SSE, `id:` sequence, `event:` kind, data ``ContextEvent``; resumes from `Last-Event-ID` |
/// | POST | `/v1/contexts/{id}/nodes/{node}/checkin?wait=S` (agent) | ``CheckInRequest`` → ``AnswerResponse`` (with `wait`, held like the long-poll until released) |
/// | GET | `/v1/contexts/{id}/nodes/{node}/answer?after=V&wait=S` (agent) | → ``AnswerResponse`` (long-poll) |
/// | POST | `/v1/contexts/{id}/nodes/{node}/output` (agent) | ``OutputAppendRequest`` → ``OutputAppendResult`` (409 on a gap) |
/// | POST | `/v1/contexts/{id}/nodes/{node}/scripts` (agent) | ``ScriptReport`` → 204 |
/// | POST | `/v1/contexts/{id}/nodes/{node}/report` (agent) | ``ResultReport`` → 204, or ``OutputAppendResult`` when it carries lines or scripts (409 on a gap) |
/// | GET | `/v1/healthz` | → ``HealthStatus`` |
/// | GET | `/metrics` | → Prometheus text |
public enum BrokerRoutes {
    /// The API version prefix.
    public static let prefix = "/v1"

    public static let contexts = "/v1/contexts"
    public static let snapshot = "/v1/snapshot"
    public static let events = "/v1/events"
    public static let health = "/v1/healthz"
    public static let metrics = "/metrics"

    public static func context(_ id: ContextID) -> String { "/v1/contexts/\(escape(id.rawValue))" }
    public static func launch(_ id: ContextID) -> String { context(id) + "/launch" }
    public static func terminate(_ id: ContextID) -> String { context(id) + "/terminate" }
    public static func workspaceNodes(_ id: ContextID, workspace: String) -> String { context(id) + "/workspaces/\(escape(workspace))/nodes" }
    public static func node(_ id: ContextID, _ node: String) -> String { context(id) + "/nodes/\(escape(node))" }
    public static func output(_ id: ContextID, _ name: String) -> String { node(id, name) + "/output" }
    public static func outputStream(_ id: ContextID, _ name: String) -> String { node(id, name) + "/output/stream" }
    public static func retry(_ id: ContextID, _ name: String) -> String { node(id, name) + "/retry" }
    public static func kill(_ id: ContextID, _ name: String) -> String { node(id, name) + "/kill" }
    public static func claim(_ id: ContextID, _ name: String) -> String { node(id, name) + "/claim" }
    public static func launchReport(_ id: ContextID, _ name: String) -> String { node(id, name) + "/launch-report" }
    public static func checkIn(_ id: ContextID, _ name: String) -> String { node(id, name) + "/checkin" }
    public static func answer(_ id: ContextID, _ name: String) -> String { node(id, name) + "/answer" }
    public static func scripts(_ id: ContextID, _ name: String) -> String { node(id, name) + "/scripts" }
    public static func report(_ id: ContextID, _ name: String) -> String { node(id, name) + "/report" }

    /// Percent-encodes a path segment (context ids and node names are usually plain, but need not be).
    public static func escape(_ segment: String) -> String {
        var result = ""
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }
}

/// Names the broker and its clients agree on for HTTP headers and server-sent events.
public enum BrokerProtocol {
    /// The SSE event name for an output line.
    public static let outputEvent = "output"
    /// How often (seconds) the broker writes an SSE comment to keep idle streams and proxies alive.
    public static let heartbeatSeconds = 15
    /// The longest long-poll wait a client may ask for (seconds); longer asks are clamped.
    public static let maximumWaitSeconds = 60
}
