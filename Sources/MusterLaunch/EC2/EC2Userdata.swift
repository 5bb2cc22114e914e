import Foundation
import MusterCore

/// The userdata of one EC2 node: a `#!/bin/sh` script that cloud-init runs once at first boot on a stock Linux
/// image. It writes the node's ``MusterCore/AgentUserdata`` (holding only this node's token) to
/// `/etc/muster/userdata.json`, readable by root only; uses `muster-agent` if the image has it on `PATH`, and
/// otherwise downloads it from the broker (`GET <broker>/v1/agent/linux/<uname -m>`), checks it against the
/// SHA-256 written into the script and installs it; then starts the agent in the background with the instance
/// metadata service as the source of the node's addresses.
///
/// Two environment variables let an instance emulator run the script unchanged on a test machine:
/// `MUSTER_INSTANCE_ROOT` (a folder that stands for `/`; empty by default) and `MUSTER_METADATA_URL` (the
/// metadata service; `http://169.254.169.254/latest` by default).
public struct EC2Userdata: Sendable {
    /// EC2 refuses userdata larger than this (bytes, before base64).
    public static let limit = 16 * 1024

    /// How instances get the agent when their image lacks it.
    public struct AgentDownload: Sendable, Hashable {
        /// The hex SHA-256 of the agent binary the broker serves, by `uname -m` architecture (`x86_64`, `aarch64`).
        public var sha256: [String: String]

        /// Creates download facts.
        public init(sha256: [String: String]) {
            self.sha256 = sha256
        }
    }

    /// The agent's userdata.
    public let userdata: AgentUserdata
    /// The agent download, or `nil` when images must bring `muster-agent` themselves.
    public let download: AgentDownload?

    /// Creates the userdata of one node from its launch request.
    public init(request: LaunchRequest, scriptTimeoutSeconds: Int?, caCertificatePEM: String?, download: AgentDownload?) {
        self.userdata = AgentUserdata(
            broker: request.brokerURL,
            context: request.context,
            node: request.node,
            generation: request.generation,
            token: request.token,
            root: "/",
            // The document's NIC names; the agent finds each one's address in the instance metadata.
            nics: request.nics.map { AgentUserdata.NIC(label: $0.label) },
            scriptTimeoutSeconds: request.scriptTimeoutSeconds ?? scriptTimeoutSeconds,
            caCertificatePEM: caCertificatePEM
        )
        self.download = download
    }

    /// The script. Fails when it would exceed EC2's 16 KB.
    public func script() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(userdata), as: UTF8.self)
        let q = EC2Script.quote
        let broker = userdata.broker.hasSuffix("/") ? String(userdata.broker.dropLast()) : userdata.broker
        var lines = [
            "#!/bin/sh",
            "# Muster node \(Self.comment(userdata.node)) of context \(Self.comment(userdata.context.rawValue)), generation \(userdata.generation).",
            "# cloud-init runs this once at first boot. It writes this node's agent userdata (its own token, readable",
            "# by root only), gets muster-agent (the image's, or the broker's after checking its SHA-256) and starts it.",
            "# An emulator may run it unchanged with:",
            "#   MUSTER_INSTANCE_ROOT  a folder that stands for / (default: empty, the real root)",
            "#   MUSTER_METADATA_URL   the instance metadata service (default: http://169.254.169.254/latest)",
            "set -eu",
            "umask 077",
            "root=\"${MUSTER_INSTANCE_ROOT:-}\"",
            "metadata=\"${MUSTER_METADATA_URL:-http://169.254.169.254/latest}\"",
            "etc=\"$root/etc/muster\"",
            "log=\"$root/var/log/muster-agent.log\"",
            "mkdir -p \"$etc\" \"$root/var/log\"",
            "# umask 077: the file is created mode 0600 before a byte of it is written.",
            "cat > \"$etc/userdata.json\" <<'MUSTER_USERDATA_END'",
            json,
            "MUSTER_USERDATA_END",
        ]
        var fetchOptions = ""
        if let pem = userdata.caCertificatePEM {
            lines += [
                "cat > \"$etc/broker-ca.pem\" <<'MUSTER_CA_END'",
                pem.trimmingCharacters(in: .whitespacesAndNewlines),
                "MUSTER_CA_END",
            ]
            fetchOptions = " \"$etc/broker-ca.pem\""
        }
        lines += [
            "agent=\"$(command -v muster-agent || true)\"",
            "if [ -z \"$agent\" ]; then",
        ]
        if let download, !download.sha256.isEmpty {
            lines += ["    arch=\"$(uname -m)\"", "    case \"$arch\" in"]
            for (arch, sum) in download.sha256.sorted(by: { $0.key < $1.key }) {
                lines.append("        \(q(arch))) sum=\(q(sum)) ;;")
            }
            lines += [
                "        *) echo \"muster: the broker has no muster-agent for $arch\" >&2; exit 1 ;;",
                "    esac",
                "    mkdir -p \"$root/usr/local/bin\"",
                "    agent=\"$root/usr/local/bin/muster-agent\"",
                "    url=\(q(broker + "/v1/agent/linux/"))\"$arch\"",
                "    if command -v curl >/dev/null 2>&1; then",
                "        curl -fsS --retry 10 --retry-delay 3 --retry-connrefused"
                    + (fetchOptions.isEmpty ? "" : " --cacert\(fetchOptions)") + " -o \"$agent.download\" \"$url\"",
                "    else",
                "        wget -q --tries=10 --waitretry=3 --retry-connrefused"
                    + (fetchOptions.isEmpty ? "" : " --ca-certificate\(fetchOptions)") + " -O \"$agent.download\" \"$url\"",
                "    fi",
                "    echo \"$sum  $agent.download\" | sha256sum -c - >/dev/null || {",
                "        echo \"muster: the agent from $url does not match its SHA-256\" >&2; rm -f \"$agent.download\"; exit 1; }",
                "    chmod 0755 \"$agent.download\"",
                "    mv \"$agent.download\" \"$agent\"",
            ]
        } else {
            lines += ["    echo \"muster: muster-agent is not on PATH and the broker offers no download\" >&2", "    exit 1"]
        }
        lines += [
            "fi",
            "nohup \"$agent\" --userdata \"$etc/userdata.json\" --metadata \"$metadata\" --root \"${root:-/}\" >>\"$log\" 2>&1 </dev/null &",
            "",
        ]
        let script = lines.joined(separator: "\n")
        guard script.utf8.count <= Self.limit else {
            throw LaunchError("the userdata of \(userdata.node) is \(script.utf8.count) bytes; EC2 takes at most \(Self.limit)")
        }
        return script
    }

    /// Text safe to put in a shell comment (one line).
    private static func comment(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
