import Foundation
import Testing

@testable import MusterCore

/// Every name that becomes a path or a script name follows ``SafeName``, checked where the document is read.
@Suite("Names in cluster documents")
struct DocumentNameTests {
    private func at(_ line: Int, _ column: Int) -> SourcePosition { SourcePosition(line: line, column: column) }

    @Test func `each unsafe name is reported at its own line and column`() throws {
        let xml = [
            "<cluster>",
            "  <workspace><name>../w</name><image>i</image><quantity>1</quantity><nic>public</nic>",  // 2
            "    <ctx><provides><identity/><role>-r</role></provides>",  // 3
            "      <requires><role name=\"a b\"/><data name=\".secret\">x</data></requires></ctx></workspace>",  // 4
            "</cluster>",
        ].joined(separator: "\n")
        let diagnostics = diagnose(xml)
        #expect(diagnostics.map(\.code) == ["invalid-name", "invalid-name", "invalid-name", "invalid-name"])
        #expect(diagnostics.map(\.location) == [at(2, 20), at(3, 37), at(4, 29), at(4, 47)])
        #expect(diagnostics[0].message.hasPrefix("workspace name '../w' starts with '.'"))
        #expect(diagnostics[1].message.hasPrefix("role name '-r' starts with '-'"))
        #expect(diagnostics[2].message.hasPrefix("role name 'a b' contains a space"))
        #expect(diagnostics[3].message.hasPrefix("data name '.secret' starts with '.'"))
    }

    @Test func `a NIC label with a slash fails validation, not the node at boot`() throws {
        let check = ClusterDocumentParser.parse(Array(cluster(workspace("w", nics: "<nic interface=\"a/b\">public</nic>")).utf8))
        #expect(!check.isValid)
        #expect(check.diagnostics.map(\.code) == ["invalid-name"])
    }

    @Test(arguments: ["ami-0abc/with/slashes", "..", ".", "folder name with spaces"])
    func `image names are not file names in the document, so any image validates`(image: String) throws {
        let xml = cluster(workspace("w")).replacingOccurrences(of: "<image>w.img</image>", with: "<image>\(image)</image>")
        #expect(try parseValid(xml).workspaces[0].image == image)
    }

    @Test func `a name with a control character is quoted inertly`() throws {
        let diagnostics = diagnose(cluster(workspace("w", provides: "<identity/><role>a\u{85}b</role>")))
        #expect(diagnostics.map(\.code) == ["invalid-name"])
        #expect(diagnostics[0].message.contains("a\\u{0085}b"))
    }
}
