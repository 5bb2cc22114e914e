import Foundation
import Testing

/// The README's tour, run as a newcomer types it: the built `muster` found on `PATH`, the working directory a
/// fresh copy of the repository's `Examples/`, relative paths, the default state folder. Every command run here
/// must be a line of one of the README's shell blocks, so when the README changes, this suite must change too.
@Suite("The README's tour, as written, from a fresh folder")
struct ReadmeTourTests {
    /// A fresh folder holding a copy of `Examples/`, and a shell in it.
    struct Tour {
        let folder: URL

        init() throws {
            folder = URL(fileURLWithPath: workFolder("tour"))
            try FileManager.default.copyItem(
                at: CommandRunner.repository.appendingPathComponent("Examples"),
                to: folder.appendingPathComponent("Examples")
            )
        }

        /// Every line of the README's `sh` blocks, with its trailing comment cut off.
        static let readmeCommands: Set<String> = {
            let readme = (try? String(contentsOf: CommandRunner.repository.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
            var commands: Set<String> = []
            var inShell = false
            for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("```") {
                    inShell = line == "```sh"
                    continue
                }
                guard inShell else { continue }
                let command = line.range(of: " #").map { line[..<$0.lowerBound] } ?? line[...]
                commands.insert(command.trimmingCharacters(in: .whitespaces))
            }
            return commands
        }()

        /// Runs one README line with `/bin/sh` in the tour's folder.
        func run(_ command: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> CommandRunner.Result {
            #expect(Self.readmeCommands.contains(command), "the README does not show `\(command)`", sourceLocation: sourceLocation)
            return try await CommandRunner.shell(command, in: folder)
        }

        /// Starts one README line (written with a trailing `&`) in the background.
        func start(_ command: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> BackgroundCommand {
            #expect(Self.readmeCommands.contains(command + " &"), "the README does not show `\(command) &`", sourceLocation: sourceLocation)
            return try BackgroundCommand(shell: "exec " + command, in: folder)
        }

        func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path) }
    }

    @Test func `the first commands validate, plan and boot the seed's cluster`() async throws {
        let tour = try Tour()
        #expect(Tour.readmeCommands.contains("export PATH=\"$PWD/.build/debug:$PATH\""))
        let validate = try await tour.run("muster validate Examples/cpe/cluster.xml")
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdout.contains("Examples/cpe/cluster.xml: valid, 4 workspaces, 4 nodes"))
        let plan = try await tour.run("muster plan Examples/cpe/cluster.xml")
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("rabbitmq-head-0"))
        let up = try await tour.run("muster up Examples/cpe/cluster.xml --headless")
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        #expect(up.stdout.contains("complete, all ok, 4/4 ok"))
        #expect(up.stdout.contains("reports in .muster/cpe-"), "paths are shown as typed, relative to where the command ran")
        #expect(tour.exists(".muster/operator-token"))
        #expect(!tour.exists(".muster/broker.json"), "the broker that ended took its broker.json along")
        #expect(processes(mentioning: tour.folder.path).isEmpty, "nothing is left running")
    }

    @Test func `a running context is steered with status, logs, events, retry, kill, terminate and ec2script`() async throws {
        let tour = try Tour()
        let up = try tour.start("muster up Examples/failing/cluster.xml --headless --keep")
        await up.waitFor("--keep:")

        let status = try await tour.run("muster status")
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("failing-") && status.stdout.contains("complete, with errors"), "\(status.stdout)")
        let check = try await tour.run("muster status --check")
        #expect(check.status == 1, "app-0 failed: \(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("app-0") && check.stdout.contains("failed"))
        let logs = try await tour.run("muster logs app-0")
        #expect(logs.status == 0)
        #expect(logs.stdout.contains("! error: /etc/app/config.yaml is missing"), "stderr lines are marked: \(logs.stdout)")
        let events = try await tour.run("muster events | head -3")
        #expect(events.status == 0)
        #expect(events.stdout.split(separator: "\n").count == 3)
        #expect(events.stdout.hasPrefix("#1 "))

        let fix = try await tour.run("sed -i 's/FIXED=no/FIXED=yes/' Examples/failing/images/app/ctx-scripts/2-thishost/publicnic")
        #expect(fix.status == 0, "\(fix.stderr)")
        let retry = try await tour.run("muster retry app-0")
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(retry.stdout.contains("app-0: retrying (generation 1)"))
        await up.waitFor("complete, all ok")
        let fixed = try await tour.run("muster status --check")
        #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")

        let kill = try await tour.run("muster kill db-0")
        #expect(kill.status == 0, "\(kill.stderr)")
        #expect(kill.stdout.contains("db-0: killed"))
        let terminate = try await tour.run("muster terminate")
        #expect(terminate.status == 0, "\(terminate.stderr)")
        #expect(terminate.stdout.contains("terminated (1 ok, 1 killed)"), "\(terminate.stdout)")

        let ec2 = try await tour.run("muster ec2script Examples/torque/cluster.xml --output ec2-run")
        #expect(ec2.status == 0, "\(ec2.stderr)")
        #expect(tour.exists("ec2-run/ec2-launch.sh"))

        // The context ended with a killed node: `muster up` says so in its status when it is stopped.
        #expect(await up.stop(signal: SIGTERM) == 1, "\(up.text)")
        #expect(processes(mentioning: tour.folder.path).isEmpty, "nothing is left running")
    }

    @Test func `output piped into head ends quietly with status 141 and leaves nothing running`() async throws {
        let tour = try Tour()
        let up = try await CommandRunner.shell(
            "muster up Examples/cpe/cluster.xml --headless | head -n 2; echo \"status ${PIPESTATUS[0]}\"",
            in: tour.folder,
            shell: "/bin/bash"
        )
        let lines = up.stdout.split(separator: "\n")
        #expect(lines.count == 3, "\(up.stdout)")
        #expect(up.stdout.contains("status 141"), "\(up.stdout)")
        #expect(!up.stderr.contains("Fatal error") && !up.stderr.contains("Broken pipe"), "\(up.stderr)")
        let gone = await eventually(timeout: .seconds(120)) { processes(mentioning: tour.folder.path).isEmpty }
        #expect(gone, "muster up stopped every node it started")

        let keep = try tour.start("muster up Examples/failing/cluster.xml --headless --keep")
        await keep.waitFor("--keep:")
        // A command that has written everything before `head` leaves ends with 0; one that writes on (a follower) with 141.
        for (command, statuses) in [
            ("muster events | head -1", [0, 141]), ("muster logs app-0 | head -2", [0, 141]),
            ("muster events --follow --json | head -1", [141]), ("muster logs app-0 --follow | head -1", [141]),
        ] {
            let piped = try await CommandRunner.shell("set -o pipefail; \(command)", in: tour.folder, shell: "/bin/bash")
            #expect(statuses.contains(Int(piped.status)), "\(command): \(piped.status) \(piped.stderr)")
            #expect(piped.stderr.isEmpty, "\(command) printed: \(piped.stderr)")
            #expect(piped.stdout.split(separator: "\n").count == (command.hasSuffix("-2") ? 2 : 1))
        }
        // app-0 failed: `muster up` says so when it is stopped.
        #expect(await keep.stop(signal: SIGINT) == 1)
    }
}
