import ArgumentParser
import Foundation
import MusterCore

/// The image a local bench boots (`images/ooi-base/` of a ``ScaledCluster``), and the proof that its scripts ran.
///
/// Scripts are found by name: a NIC's scripts by the NIC's name (`publicnic` for ScaledCluster's `<nic>public</nic>`),
/// a role's by the role. A misnamed script is skipped without a word, and a bench would then time agents that run
/// nothing; so each script also appends its name to `$MUSTER_ROOT/bench-scripts-ran`, and the bench counts them.
struct BenchImage {
    /// Script paths under `ctx-scripts/`, and what each prints.
    let scripts: [(path: String, body: String)]

    /// Every phase ScaledCluster's nodes run: the head runs its own NIC's two; each dependent also the head's role.
    static let everyPhase = BenchImage(scripts: [
        ("1-ipandhost/rabbitmq-head", "echo \"head at $1 ($3)\""),
        ("2-thishost/\(NICSpec.publicName)", "echo \"this is $2 at $1\""),
        ("4-restarts/rabbitmq-head", "echo restarted"),
        ("5-thishost-finalize/\(NICSpec.publicName)", "echo \"$2 done\""),
    ])

    /// One script per node (`2-thishost`).
    static let ownNIC = BenchImage(scripts: [("2-thishost/\(NICSpec.publicName)", "echo \"this is $2 at $1\"")])

    /// Writes the image into `folder/images/ooi-base/ctx-scripts`.
    func write(into folder: String) throws {
        let root = (folder as NSString).appendingPathComponent("images/ooi-base/ctx-scripts")
        for (path, body) in scripts {
            let file = (root as NSString).appendingPathComponent(path)
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let record = "echo '\(path)' >> \"$MUSTER_ROOT/bench-scripts-ran\""
            try ("#!/bin/sh\n" + body + "\n" + record + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file)
        }
    }

    /// How many script runs `nodes` nodes of ScaledCluster make with this image: the head runs its NIC's scripts,
    /// each dependent those and the head role's.
    func expectedRuns(nodes: Int) -> Int {
        let own = scripts.filter { $0.path.hasSuffix("/\(NICSpec.publicName)") }.count
        return own * nodes + (scripts.count - own) * max(0, nodes - 1)
    }

    /// The script runs recorded in the node roots under a state folder (`<state>/<context>/nodes/<node>/`).
    static func recordedRuns(state: String) -> Int {
        let files = FileManager.default
        var runs = 0
        for context in (try? files.contentsOfDirectory(atPath: state)) ?? [] {
            let nodes = "\(state)/\(context)/nodes"
            for node in (try? files.contentsOfDirectory(atPath: nodes)) ?? [] {
                let text = (try? String(contentsOfFile: "\(nodes)/\(node)/bench-scripts-ran", encoding: .utf8)) ?? ""
                runs += text.split(separator: "\n").count
            }
        }
        return runs
    }

    /// Fails unless every script of every node ran: a bench of agents that ran nothing measures nothing.
    func checkRuns(nodes: Int, state: String) throws -> Int {
        let runs = Self.recordedRuns(state: state)
        let expected = expectedRuns(nodes: nodes)
        guard runs == expected else {
            throw ValidationError(
                "the bench's nodes ran \(runs) scripts, not \(expected): are the image's scripts named for the NIC (\(NICSpec.publicName)) and role?"
            )
        }
        return runs
    }
}
