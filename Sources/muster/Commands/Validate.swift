import ArgumentParser
import Foundation
import MusterCore

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check cluster documents and report every problem, compiler-style.",
        discussion: """
            Each problem is printed as FILE:LINE:COL: error: MESSAGE (or warning:), followed by the line and a \
            caret, and all problems of all files are reported in one run (at most the first 100 errors and 100 \
            warnings per file, then a count of the rest). Malformed XML stops at the first syntax error. DTDs and \
            entity declarations are refused outright. A valid file's line names its NICs as nodes will know them \
            (publicnic, localnic: Nimbus's names).

            Exit status: 0 when every document is valid (warnings allowed), 65 when any is invalid, 66 when a \
            file cannot be read.

            Examples:
              muster validate Examples/cpe/cluster.xml
              muster validate clusters/*.xml --json \\
                | jq '.files[] | select(.valid == false)'
            """
    )

    @Argument(help: ArgumentHelp("Cluster documents to check ('-' reads standard input).", valueName: "file"))
    var files: [String]

    @Flag(help: "Print one JSON object with every file's diagnostics instead of text.")
    var json = false

    @Flag(name: .customLong("quiet"), help: "Print only problems, not a line per valid file.")
    var quiet = false

    struct Report: Encodable {
        struct File: Encodable {
            var file: String
            var valid: Bool
            var readable: Bool
            var workspaces: Int?
            var nodes: Int?
            /// The NIC names the document's nodes get (Nimbus's rule), each once, in document order.
            var nics: [String]?
            var diagnostics: [Entry]
        }

        struct Entry: Encodable {
            var severity: String
            var code: String
            var message: String
            var line: Int
            var column: Int
        }

        var valid: Bool
        var files: [File]
    }

    func run() throws {
        var report = Report(valid: true, files: [])
        var unreadable = false
        let color = !json && Terminal.wantsColor(fileDescriptor: STDOUT_FILENO)
        for path in files {
            let file: DocumentFile
            do {
                file = try DocumentFile.load(path)
            } catch {
                unreadable = true
                report.valid = false
                report.files.append(.init(file: path, valid: false, readable: false, diagnostics: []))
                if !json { Output.error("\(error)") }
                continue
            }
            let check = file.check
            report.valid = report.valid && check.isValid
            report.files.append(
                .init(
                    file: file.path,
                    valid: check.isValid,
                    readable: true,
                    workspaces: check.document?.workspaces.count,
                    nodes: check.document?.nodeCount,
                    nics: check.document.map(Self.nicNames),
                    diagnostics: check.diagnostics.map {
                        .init(severity: $0.severity.rawValue, code: $0.code, message: $0.message, line: $0.location.line, column: $0.location.column)
                    }
                )
            )
            guard !json else { continue }
            if !check.diagnostics.isEmpty { Output.line(file.renderedDiagnostics(color: color)) }
            if let document = check.document {
                if !quiet {
                    let warnings = check.diagnostics.filter { $0.severity == .warning }.count
                    Output.line(
                        "\(file.path): valid, \(Plural.count(document.workspaces.count, "workspace")), \(Plural.count(document.nodeCount, "node")), "
                            + "NICs \(Self.nicNames(document).joined(separator: ", "))"
                            + (warnings > 0 ? ", \(Plural.count(warnings, "warning"))" : "")
                    )
                }
            } else {
                let errors = check.diagnostics.filter { $0.severity == .error }.count
                Output.line("\(file.path): invalid, \(errors) error\(errors == 1 ? "" : "s")")
            }
        }
        if json { try JSONOutput.print(report) }
        if unreadable { throw ExitCodes.notFound }
        if !report.valid { throw ExitCodes.invalidDocument }
    }

    /// Each NIC name of the document once, in document order.
    static func nicNames(_ document: ClusterDocument) -> [String] {
        var seen: Set<String> = []
        return document.workspaces.flatMap { $0.nics.map(\.label) }.filter { seen.insert($0).inserted }
    }
}
