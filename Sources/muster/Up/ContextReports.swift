import Foundation
import MusterClient
import MusterCore

/// Writes what cloud-client wrote after a launch: `reports/CTX-OK.txt` or `CTX-ERR.txt`, one report per node
/// (`OK-<node>.txt`, `ERROR-<code>-<node>.txt`), and a `known_hosts` with the host keys of `wantlogin` NICs.
struct ContextReports {
    let folder: String

    /// `<work>/<context>`.
    init(work: String, context: ContextID) {
        folder = (work as NSString).appendingPathComponent(context.rawValue)
    }

    var reportsFolder: String { (folder as NSString).appendingPathComponent("reports") }
    var knownHostsPath: String { (folder as NSString).appendingPathComponent("known_hosts") }

    func write(_ detail: ContextDetail, broker: String, client: OperatorClient) async throws {
        let context = detail.context
        let files = FileManager.default
        if files.fileExists(atPath: reportsFolder) { try files.removeItem(atPath: reportsFolder) }
        // Node output and identities, for the operator only: nodes may be able to cross the context's folder.
        try files.createDirectory(atPath: reportsFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let status = context.status
        var summary = [
            "context: \(context.id) (\(context.name))",
            "broker: \(broker)",
            "written: \(Date().formatted(.iso8601))",
            "complete: \(status.complete)  allOk: \(status.allOk)  errorPresent: \(status.errorPresent)",
            "nodes: \(status.expected)  registered: \(status.registered)",
            "",
        ]
        for node in context.nodes {
            summary.append("\(node.name)  \(node.state.rawValue)\(node.exitCode.map { "  exit \($0)" } ?? "")\(node.message.map { "  \($0)" } ?? "")")
            let name = node.state == .ok ? "OK-\(node.name).txt" : "ERROR-\(node.exitCode ?? 0)-\(node.name).txt"
            let tail = node.state == .ok ? [] : try await outputTail(node.name, context: context.id, client: client)
            try Self.nodeReport(node, tail: tail).write(
                toFile: (reportsFolder as NSString).appendingPathComponent(name),
                atomically: true,
                encoding: .utf8
            )
        }
        let name = status.allOk ? "CTX-OK.txt" : "CTX-ERR.txt"
        try (summary.joined(separator: "\n") + "\n").write(
            toFile: (reportsFolder as NSString).appendingPathComponent(name),
            atomically: true,
            encoding: .utf8
        )
        try knownHosts(context).write(toFile: knownHostsPath, atomically: true, encoding: .utf8)
    }

    private func outputTail(_ node: String, context: ContextID, client: OperatorClient) async throws -> [OutputLine] {
        let total = try await client.output(of: node, in: context, from: 0, limit: 1).total
        return try await client.output(of: node, in: context, from: max(0, total - 50), limit: 50).lines
    }

    static func nodeReport(_ node: NodeSnapshot, tail: [OutputLine]) -> String {
        var lines = ["node: \(node.name)", "workspace: \(node.workspace)", "state: \(node.state.rawValue)"]
        if let code = node.exitCode { lines.append("exit code: \(code)") }
        if let message = node.message { lines.append("message: \(message)") }
        for identity in node.identities {
            lines.append("identity \(identity.interface): \(identity.ip) \(identity.hostname)")
            lines.append("  host key: \(identity.pubkey)")
        }
        if !node.timeline.isEmpty { lines.append("scripts:") }
        for run in node.timeline {
            let seconds = run.finished.map { HumanDuration.text($0.timeIntervalSince(run.started)) } ?? "running"
            lines.append(
                "  \(run.script.phase) \(run.script.script) \(run.script.arguments.joined(separator: " "))  \(seconds)  exit \(run.exitCode.map(String.init) ?? "-")"
            )
        }
        if !tail.isEmpty {
            lines.append("last output:")
            for line in tail { lines.append("  \(line.stream == .stderr ? "!" : " ") \(line.text)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `hostname,ip key` for every NIC marked wantlogin, as ssh's known_hosts wants.
    func knownHosts(_ context: ContextSnapshot) -> String {
        var lines: [String] = []
        for workspace in context.workspaces {
            let logins = Set(workspace.nics.filter(\.wantLogin).map(\.label))
            guard !logins.isEmpty else { continue }
            for node in context.nodes where node.workspace == workspace.name {
                for identity in node.identities where logins.contains(identity.interface) && !identity.pubkey.isEmpty {
                    lines.append("\(identity.hostname),\(identity.ip) \(identity.pubkey)")
                }
            }
        }
        return lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
    }
}
