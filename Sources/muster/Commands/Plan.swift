import ArgumentParser
import Foundation
import MusterCore
import MusterLaunch

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what launching a cluster document would do, without launching anything.",
        discussion: """
            Lists each workspace and its nodes (named <workspace>-<n>), what they provide, and for every node \
            what it waits on before the broker releases it: the providers of each role it requires (registered, \
            or ready with muster:wait="ready"), and every node when it requires all identities. It also checks \
            what the local launcher would need: each workspace's image folder (images/NAME/ next to the file, \
            or under --images) and a 3-data/ folder where data values are required.

            Exit status: 0 for a valid document whose images are all there, 65 for an invalid one (its \
            diagnostics are printed), 66 when the file cannot be read or an image folder is missing (the plan \
            is printed, and each problem with the paths looked in).

            Examples:
              muster plan Examples/cpe/cluster.xml
              muster plan cluster.xml --images ~/images
              muster plan cluster.xml --json \\
                | jq '.workspaces[].nodes[] | {name, waitsOn}'
            """
    )

    @Argument(help: ArgumentHelp("The cluster document ('-' reads standard input).", valueName: "file"), completion: .file(extensions: ["xml"]))
    var file: String

    @Option(help: ArgumentHelp("Folder holding image folders (default: images/ next to the cluster file).", valueName: "dir"))
    var images: [String] = []

    @Flag(help: "Print the plan as JSON.")
    var json = false

    func run() throws {
        let loaded: DocumentFile
        do {
            loaded = try DocumentFile.load(file)
        } catch {
            Output.error(error.description)
            throw ExitCodes.notFound
        }
        let color = Terminal.wantsColor(fileDescriptor: STDERR_FILENO)
        guard let document = loaded.check.document else {
            Output.error(loaded.renderedDiagnostics(color: color))
            throw ExitCodes.invalidDocument
        }
        let plan = ContextPlan(document)
        if json {
            try JSONOutput.print(plan)
        } else {
            if !loaded.check.diagnostics.isEmpty { Output.error(loaded.renderedDiagnostics(color: color)) }
            Output.line(plan.rendered(title: loaded.path))
        }
        let base =
            file == "-" ? FileManager.default.currentDirectoryPath : URL(fileURLWithPath: LocalPath.absolute(file)).deletingLastPathComponent().path
        let folders = images.isEmpty ? [(base as NSString).appendingPathComponent("images")] : images.map { LocalPath.absolute($0) }
        let preflight = LocalPreflight(workspaces: document.workspaces, images: ImageFolders(searchPath: folders))
        guard preflight.problems.isEmpty else {
            for problem in preflight.problems { Output.error("error: \(loaded.path): \(problem)") }
            throw ExitCodes.notFound
        }
    }
}
