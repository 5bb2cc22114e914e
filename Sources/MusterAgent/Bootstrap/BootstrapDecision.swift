import Foundation

/// What the agent does with the userdata and flags it was given.
public enum BootstrapDecision: Sendable, Hashable {
    /// Go on with this bootstrap.
    case run(AgentBootstrap)
    /// There is nothing for Muster here: exit 0 without a word on stdout, as Nimbus's agent did when a VM
    /// was launched without context userdata. The reason is for a debug log.
    case exitQuietly(reason: String)
    /// The userdata or flags are Muster's but wrong: exit with the error's code (1, input).
    case fail(AgentError)

    /// Decides from the raw userdata (`nil` when there is none: no file, an empty metadata answer) and the
    /// fields given by flags, which override the userdata's.
    ///
    /// - No userdata (or only white space) and no flags: exit quietly.
    /// - Userdata that is not a JSON object (a shell script or cloud-config meant for something else on the
    ///   same image) and no flags: exit quietly.
    /// - Userdata that starts as a JSON object but does not decode: fail (code 1).
    /// - A bundle of several nodes' userdata (`{"version": 1, "nodes": [...]}`, written by earlier versions of
    ///   `muster ec2script` for `run-instances --count N`): fail. Each node's userdata must hold its own token
    ///   only, so that an instance can act only as itself.
    /// - Otherwise the merged fields must resolve (see ``AgentBootstrap/Fields/resolve()``) or fail.
    public static func decide(
        userdata: Data?,
        flags: AgentBootstrap.Fields = AgentBootstrap.Fields()
    ) -> BootstrapDecision {
        let text = userdata.map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        var fields = AgentBootstrap.Fields()
        if text.isEmpty {
            if flags.isEmpty { return .exitQuietly(reason: "no userdata and no flags") }
        } else if !text.hasPrefix("{") {
            if flags.isEmpty { return .exitQuietly(reason: "the userdata is not Muster's (not a JSON object)") }
        } else {
            do {
                let data = Data(text.utf8)
                if let bundle = try JSONDecoder().decode(BundleProbe.self, from: data).nodes {
                    return .fail(
                        .input(
                            "the userdata holds \(bundle.count) nodes' tokens; each node needs userdata of its own "
                                + "(regenerate it with this version of `muster ec2script`)"
                        )
                    )
                } else {
                    fields = try JSONDecoder().decode(AgentBootstrap.Fields.self, from: data)
                }
            } catch {
                return .fail(.input("the userdata is not valid Muster agent JSON: \(Self.describe(error))"))
            }
        }
        do {
            return .run(try fields.merging(flags).resolve())
        } catch {
            return .fail(error)
        }
    }

    /// The `nodes` of a bundle, if the userdata is one.
    private struct BundleProbe: Decodable {
        var nodes: [AgentBootstrap.Fields]?
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.keyNotFound(_, let context), DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}
