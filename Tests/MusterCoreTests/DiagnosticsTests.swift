import Foundation
import Testing

@testable import MusterCore

/// Each diagnostic of `muster validate`, with the exact line and column it points at.
@Suite("Validation diagnostics")
struct DiagnosticsTests {
    /// A two-workspace document in which line 7 (and the lines given) can be replaced.
    private func document(head: [String] = [], tail: [String] = []) -> String {
        let lines =
            [
                "<cluster xmlns=\"http://www.globus.org/2008/06/workspace/metadata/logistics\">",  // 1
                "  <workspace>",  // 2
                "    <name>head</name>",  // 3
                "    <image>head.img</image>",  // 4
                "    <quantity>1</quantity>",  // 5
                "    <nic>public</nic>",  // 6
                "    <ctx><provides><identity/><role>master</role></provides></ctx>",  // 7
            ] + head + ["  </workspace>"] + tail + ["</cluster>"]
        return lines.joined(separator: "\n")
    }

    private func only(_ xml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Diagnostic {
        let diagnostics = diagnose(xml)
        try #require(diagnostics.count == 1, "\(diagnostics)", sourceLocation: sourceLocation)
        return diagnostics[0]
    }

    private func at(_ line: Int, _ column: Int) -> SourcePosition { SourcePosition(line: line, column: column) }

    @Test func `a well-formed, complete document has no diagnostics`() {
        #expect(diagnose(document()).isEmpty)
    }

    @Test func `a syntax error is reported at its real position`() throws {
        let xml = document().replacingOccurrences(of: "<image>head.img</image>", with: "<image>head.img</imag>")
        let diagnostic = try only(xml)
        #expect(diagnostic.code == "mismatched-tag")
        #expect(diagnostic.severity == .error)
        #expect(diagnostic.location == at(4, 20))
    }

    @Test func `a missing role is reported at the required role's name`() throws {
        let tail = [
            "  <workspace>",  // 9
            "    <name>worker</name><image>w</image><quantity>2</quantity><nic>public</nic>",  // 10
            "    <ctx><requires><role name=\"mastr\"/></requires></ctx>",  // 11
            "  </workspace>",
        ]
        let diagnostic = try only(document(tail: tail))
        #expect(diagnostic.code == "unknown-role")
        #expect(diagnostic.location == at(11, 32))
        #expect(diagnostic.message.contains("'mastr'"))
        #expect(diagnostic.message.contains("did you mean 'master'?"))
    }

    @Test(arguments: [
        ("0", "invalid-quantity"), ("two", "invalid-quantity"), ("-1", "invalid-quantity"), ("1.5", "invalid-quantity"),
        ("99999999", "quantity-too-large"), ("40000", "quantity-too-large"),
    ])
    func `a bad quantity is reported at its value`(value: String, code: String) throws {
        let xml = document().replacingOccurrences(of: "<quantity>1</quantity>", with: "<quantity>\(value)</quantity>")
        let diagnostic = try only(xml)
        #expect(diagnostic.code == code)
        #expect(diagnostic.location == at(5, 15))
        #expect(diagnostic.message.contains(value) || value == "0")
    }

    @Test(arguments: [
        ("    <image>head.img</image>", "missing-image"), ("    <quantity>1</quantity>", "missing-quantity"),
        ("    <nic>public</nic>", "missing-nic"),
    ])
    func `a missing required part is reported at its workspace`(line: String, code: String) throws {
        let xml = document().replacingOccurrences(of: line + "\n", with: "")
        let diagnostic = try only(xml)
        #expect(diagnostic.code == code)
        #expect(diagnostic.location == at(2, 3))
    }

    @Test func `duplicate workspace names point at the second with a note at the first`() throws {
        let tail = [
            "  <workspace>",
            "    <name>head</name><image>h</image><quantity>1</quantity><nic>public</nic>",  // 10
            "    <ctx><provides><identity/></provides></ctx>",
            "  </workspace>",
        ]
        let diagnostics = diagnose(document(tail: tail))
        #expect(diagnostics.map(\.code) == ["duplicate-workspace", "duplicate-workspace"])
        #expect(diagnostics.map(\.severity) == [.error, .note])
        #expect(diagnostics.map(\.location) == [at(10, 11), at(3, 11)])
    }

    @Test func `a ctx with neither provides nor requires is an error`() throws {
        let xml = document().replacingOccurrences(of: "<ctx><provides><identity/><role>master</role></provides></ctx>", with: "<ctx></ctx>")
        let diagnostic = try only(xml)
        #expect(diagnostic.code == "empty-ctx")
        #expect(diagnostic.location == at(7, 5))
    }

    @Test func `an unknown element is an error naming what is expected`() throws {
        let diagnostic = try only(document(head: ["    <memory>2G</memory>"]))
        #expect(diagnostic.code == "unknown-element")
        #expect(diagnostic.location == at(8, 5))
        #expect(diagnostic.message.contains("<image>"))
    }

    @Test func `a misplaced element says where it belongs`() throws {
        let diagnostic = try only(document(head: ["    <data name=\"x\">1</data>"]))
        #expect(diagnostic.code == "misplaced-element")
        #expect(diagnostic.location == at(8, 5))
        #expect(diagnostic.message.contains("<requires>"))
    }

    @Test func `a repeated single element is an error`() throws {
        let diagnostic = try only(document(head: ["    <image>other</image>"]))
        #expect(diagnostic.code == "duplicate-element")
        #expect(diagnostic.location == at(8, 5))
    }

    @Test func `a DOCTYPE is refused`() throws {
        let diagnostic = try only("<!DOCTYPE cluster [<!ENTITY x \"y\">]>\n" + document())
        #expect(diagnostic.code == "doctype-refused")
        #expect(diagnostic.location == at(1, 1))
    }

    @Test func `a cycle of readiness waits is rejected naming its members`() throws {
        let xml = cluster(
            workspace("a", provides: "<identity/><role>ra</role>", requires: "<role name=\"rb\" muster:wait=\"ready\"/>"),
            workspace("b", provides: "<identity/><role>rb</role>", requires: "<role name=\"rc\" muster:wait=\"ready\"/>"),
            workspace("c", provides: "<identity/><role>rc</role>", requires: "<role name=\"ra\" muster:wait=\"ready\"/>"),
            namespaces: " xmlns:muster=\"\(ClusterNamespace.muster)\""
        )
        let diagnostic = try only(xml)
        #expect(diagnostic.code == "ready-wait-cycle")
        #expect(diagnostic.message.contains("'a' → 'b' → 'c' → 'a'"))
        #expect(diagnostic.location.line == 2)
    }

    @Test func `a workspace waiting for its own readiness is a cycle of one`() throws {
        let xml = cluster(
            workspace("solo", provides: "<identity/><role>r</role>", requires: "<role name=\"r\" muster:wait=\"ready\"/>"),
            namespaces: " xmlns:muster=\"\(ClusterNamespace.muster)\""
        )
        let diagnostic = try only(xml)
        #expect(diagnostic.code == "ready-wait-cycle")
        #expect(diagnostic.message.contains("'solo' waits for itself"))
    }

    @Test func `mutual registration waits are not a cycle`() throws {
        let xml = cluster(
            workspace("head", provides: "<identity/><role>torquemaster</role>", requires: "<role name=\"torqueslave\"/>"),
            workspace("slave", quantity: 3, provides: "<identity/><role>torqueslave</role>", requires: "<role name=\"torquemaster\"/>")
        )
        #expect(diagnose(xml).isEmpty)
    }

    @Test func `a readiness wait one way and a registration wait back is not a cycle`() throws {
        let xml = cluster(
            workspace("db", provides: "<identity/><role>db</role>", requires: "<role name=\"app\"/>"),
            workspace("app", provides: "<identity/><role>app</role>", requires: "<role name=\"db\" muster:wait=\"ready\"/>"),
            namespaces: " xmlns:muster=\"\(ClusterNamespace.muster)\""
        )
        #expect(diagnose(xml).isEmpty)
    }

    @Test func `every problem of a document is reported in one run, in document order`() throws {
        let xml = [
            "<cluster>",
            "  <workspace><name>a</name><image>i</image><quantity>zero</quantity><nic>public</nic>",  // 2
            "    <ctx><requires><role name=\"ghost\"/></requires></ctx></workspace>",  // 3
            "  <workspace><name>b</name><quantity>1</quantity><nic>public</nic>",  // 4
            "    <ctx><provides><identity/></provides><bogus/></ctx></workspace>",  // 5
            "</cluster>",
        ].joined(separator: "\n")
        let diagnostics = diagnose(xml)
        #expect(diagnostics.map(\.code) == ["invalid-quantity", "unknown-role", "missing-image", "unknown-element"])
        #expect(diagnostics.map(\.location) == [at(2, 54), at(3, 32), at(4, 3), at(5, 42)])
    }

    @Test func `bad booleans and unknown Muster attributes are errors; unknown plain attributes warn`() throws {
        let xml = [
            "<cluster xmlns:muster=\"\(ClusterNamespace.muster)\">",
            "  <workspace><name>a</name><image>i</image><quantity>1</quantity><nic wantlogin=\"yes\">public</nic>",  // 2
            "    <ctx><provides><identity/><role>r</role></provides>",
            "      <requires><role name=\"r\" muster:wait=\"soon\" muster:color=\"red\" colour=\"x\"/></requires></ctx></workspace>",  // 4
            "</cluster>",
        ].joined(separator: "\n")
        let diagnostics = diagnose(xml)
        #expect(diagnostics.map(\.code) == ["invalid-boolean", "invalid-wait", "unknown-attribute", "unknown-attribute"])
        #expect(diagnostics.map(\.severity) == [.error, .error, .error, .warning])
        #expect(diagnostics.map(\.location) == [at(2, 82), at(4, 45), at(4, 51), at(4, 70)])
    }

    @Test func `names used as file names cannot hold a slash`() throws {
        let xml = cluster(workspace("a", provides: "<identity/><role>../etc</role>"))
        #expect(diagnose(xml).map(\.code) == ["invalid-name"])
    }

    @Test func `a role interface must name a NIC of the workspace`() throws {
        let xml = cluster(workspace("a", provides: "<identity/><role interface=\"eth9\">r</role>"))
        #expect(diagnose(xml).map(\.code) == ["unknown-interface"])
    }

    @Test func `data names are unique within a workspace`() throws {
        let xml = cluster(workspace("a", requires: "<data name=\"k\">1</data><data name=\"k\">2</data>"))
        #expect(diagnose(xml).map(\.code) == ["duplicate-data"])
    }

    @Test func `a wrong root element is reported`() throws {
        let diagnostic = try only("<clusters/>")
        #expect(diagnostic.code == "unexpected-root")
    }

    @Test func `diagnostics print like a compiler's`() {
        let diagnostic = Diagnostic(.error, code: "x", "something is wrong", at: at(3, 7))
        #expect(diagnostic.formatted(file: "c.xml") == "c.xml:3:7: error: something is wrong")
    }
}
