import ArgumentParser
import Foundation
import MusterBroker

/// `--agent-binary`: the `muster-agent` a broker serves to stock images (`GET /v1/agent/linux/{arch}`), and
/// whose SHA-256 goes into their userdata.
struct AgentBinaryOptions: ParsableArguments {
    @Option(
        name: .customLong("agent-binary"),
        help: ArgumentHelp(
            "The muster-agent to serve to stock images, built with --static-swift-stdlib (default: muster-agent-linux-ARCH "
                + "beside muster, else muster-agent); repeat for each architecture.",
            valueName: "path"
        ),
        completion: .file()
    )
    var paths: [String] = []

    /// The binaries to serve: the given ones, else those beside this `muster`. Nil when none can be read and
    /// none was given.
    ///
    /// - Throws: ``CommandFailure`` when a given binary cannot be read or is not an x86_64 or aarch64 executable.
    func download() throws(CommandFailure) -> AgentDownload? {
        do {
            return try AgentDownload(folder: Installation.executableFolder.path, explicit: paths.map { LocalPath.absolute($0) })
        } catch {
            guard paths.isEmpty else {
                let missing = paths.contains { !FileManager.default.isReadableFile(atPath: LocalPath.absolute($0)) }
                throw CommandFailure(missing ? ExitCodes.notFound : ExitCodes.configuration, "--agent-binary: \(error)")
            }
            return nil
        }
    }

    /// The binaries to serve, with a warning on standard error for each one a stock image could not start (and
    /// when there is none): for commands that boot EC2 instances.
    func downloadWarning() throws(CommandFailure) -> AgentDownload? {
        let download = try download()
        for warning in download?.warnings ?? AgentDownload.none.warnings { Output.error("warning: \(warning)") }
        return download
    }
}
