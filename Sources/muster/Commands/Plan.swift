import ArgumentParser
import Foundation
import MusterCore

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what launching a cluster document would do, without launching anything.",
        discussion: """
            Lists each workspace and its nodes (named <workspace>-<n>), what they provide, and for every node \
            what it waits on before the broker releases it: the providers of each role it requires (registered, \
            or ready with muster:wait="ready"), and every node when it requires all identities.

            Exit status: 0 for a valid document, 65 for an invalid one (its diagnostics are printed), 66 when \
            the file cannot be read.

            Examples:
              muster plan Examples/cpe/cluster.xml
              muster plan cluster.xml --json | jq '.workspaces[].nodes[] | {name, waitsOn}'
            """
    )

    @Argument(help: ArgumentHelp("The cluster document ('-' reads standard input).", valueName: "file"))
    var file: String

    @Flag(help: "Print the plan as JSON.")
    var json = false

    func run() throws {
        let loaded: DocumentFile
        do {
            loaded = try DocumentFile.load(file)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCodes.unreadableInput
        }
        guard let document = loaded.check.document else {
            FileHandle.standardError.write(Data((loaded.renderedDiagnostics(color: Terminal.wantsColor(fileDescriptor: STDERR_FILENO)) + "\n").utf8))
            throw ExitCodes.invalidDocument
        }
        let plan = ContextPlan(document)
        if json {
            try JSONOutput.print(plan)
        } else {
            if !loaded.check.diagnostics.isEmpty {
                FileHandle.standardError.write(
                    Data((loaded.renderedDiagnostics(color: Terminal.wantsColor(fileDescriptor: STDERR_FILENO)) + "\n").utf8)
                )
            }
            print(plan.rendered(title: loaded.path))
        }
    }
}
