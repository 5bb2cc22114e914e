import Foundation
import MusterCore
import Testing

/// Files the tests read: the Nimbus fixtures and the repository's examples.
enum Fixtures {
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let repository = testsFolder.deletingLastPathComponent().deletingLastPathComponent()
    static let nimbusFolder = testsFolder.appendingPathComponent("Fixtures/nimbus")

    static var nimbusDocuments: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: nimbusFolder.path))?.filter { $0.hasSuffix(".xml") }.sorted() ?? []
    }

    static func nimbus(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: nimbusFolder.appendingPathComponent(name)))
    }

    static func example(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: repository.appendingPathComponent("Examples").appendingPathComponent(path)))
    }
}

/// Parses a document given as a string and returns it, failing the test with the diagnostics if it is invalid.
func parseValid(_ xml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> ClusterDocument {
    let check = ClusterDocumentParser.parse(Array(xml.utf8))
    #expect(check.isValid, "\(check.diagnostics)", sourceLocation: sourceLocation)
    return try #require(check.document, sourceLocation: sourceLocation)
}

/// The diagnostics for a document given as a string.
func diagnose(_ xml: String) -> [Diagnostic] {
    ClusterDocumentParser.parse(Array(xml.utf8)).diagnostics
}

/// Builds a cluster document's XML from workspace snippets, so tests show only what matters.
func cluster(_ workspaces: String..., namespaces: String = "") -> String {
    "<cluster xmlns=\"\(ClusterNamespace.logistics)\"\(namespaces)>\n" + workspaces.joined(separator: "\n") + "\n</cluster>\n"
}

/// One `<workspace>` element.
func workspace(
    _ name: String,
    quantity: Int = 1,
    nics: String = "<nic>public</nic>",
    provides: String = "<identity/>",
    requires: String? = nil
) -> String {
    let requiresBlock = requires.map { "<requires>\($0)</requires>" } ?? ""
    return """
        <workspace><name>\(name)</name><image>\(name).img</image><quantity>\(quantity)</quantity>\(nics)\
        <ctx><provides>\(provides)</provides>\(requiresBlock)</ctx></workspace>
        """
}
