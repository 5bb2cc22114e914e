import Foundation
import Testing

@testable import MusterCore

/// A document cannot stall validation: work is linear in its size however it is laid out, and at most
/// ``ClusterDocumentParser/diagnosticLimit`` errors (and warnings) are reported.
@Suite("Diagnostic limits and linear reading")
struct DiagnosticLimitTests {
    /// One workspace holding `count` unknown `<x/>` elements, all on one line.
    private func flood(_ count: Int, element: String = "<x/>") -> [UInt8] {
        Array(
            (cluster(workspace("w")).replacingOccurrences(of: "</workspace>", with: String(repeating: element, count: count) + "</workspace>")).utf8
        )
    }

    @Test func `a hundred thousand errors on one line report the first hundred and a note with the rest`() throws {
        let bytes = flood(100_000)
        let check = ClusterDocumentParser.parse(bytes)
        let limit = ClusterDocumentParser.diagnosticLimit
        #expect(!check.isValid)
        #expect(check.diagnostics.count == limit + 1)
        #expect(check.diagnostics.prefix(limit).allSatisfy { $0.code == "unknown-element" && $0.severity == .error })
        let note = try #require(check.diagnostics.last)
        #expect(note.severity == .note)
        #expect(note.code == "more-diagnostics")
        #expect(note.message.hasPrefix("… and 99900 more errors not shown"))
        // The note points at the first element left out: the 101st, four bytes after the 100th.
        let last = check.diagnostics[limit - 1].location
        #expect(note.location == SourcePosition(line: last.line, column: last.column + 4))
    }

    @Test func `the kept diagnostics are the first in document order, not the first found`() throws {
        // Workspace-level errors are found after the elements inside the workspace; the first 100 by position win.
        let xml = cluster(workspace("w"), String(repeating: "<workspace><name>v</name></workspace>\n", count: 150))
        let check = ClusterDocumentParser.parse(Array(xml.utf8))
        let errors = check.diagnostics.filter { $0.severity == .error }
        #expect(errors.count == ClusterDocumentParser.diagnosticLimit)
        #expect(errors.map(\.location) == errors.map(\.location).sorted())
        #expect(errors.last!.location.line <= 2 + 150)
        #expect(check.diagnostics.last?.code == "more-diagnostics")
    }

    @Test func `warnings are capped separately from errors`() throws {
        let bytes = flood(300, element: "<o:x xmlns:o=\"urn:other\"/>")
        let check = ClusterDocumentParser.parse(bytes)
        #expect(check.isValid)
        #expect(check.diagnostics.filter { $0.severity == .warning }.count == ClusterDocumentParser.diagnosticLimit)
        #expect(check.diagnostics.last?.message.hasPrefix("… and 200 more warnings") == true)
    }

    @Test func `messages are built only for the diagnostics that can be reported`() throws {
        guard case .success(let xml) = XMLReader.parse(flood(20_000)) else {
            Issue.record("the flood is well-formed XML")
            return
        }
        var decoder = ClusterDocumentDecoder(xml)
        _ = decoder.decode()
        #expect(decoder.collector.errorCount == 20_000)
        #expect(decoder.collector.messagesBuilt <= 2 * ClusterDocumentParser.diagnosticLimit)
    }

    @Test func `a line and column lookup reads a bounded number of bytes however long the line is`() {
        let line = Array(String(repeating: "ab€🚀", count: 50_000).utf8)
        let table = LineTable(line)
        var scalars = 0
        var counted = 0
        for offset in stride(from: 0, through: line.count, by: 997) {
            let position = table.location(of: offset)
            #expect(position.line == 1)
            #expect(table.bytesRead(toLocate: offset) < LineTable.checkpointStride)
            // Cross-check the checkpoint arithmetic against a plain count.
            scalars += line[counted..<offset].filter { $0 & 0xC0 != 0x80 }.count
            counted = offset
            #expect(position.column == scalars + 1)
        }
    }

    @Test func `columns count scalars on later lines and skip a byte order mark`() {
        let table = LineTable(Array("\u{FEFF}é<a>\nxü<b/>".utf8))
        #expect(table.location(of: 3) == SourcePosition(line: 1, column: 1))
        #expect(table.location(of: 5) == SourcePosition(line: 1, column: 2))
        #expect(table.location(of: 13) == SourcePosition(line: 2, column: 4))
    }

    @Test func `duplicate detection stays linear for an element with twenty thousand attributes`() {
        var tag = "<cluster"
        for index in 0..<20_000 { tag += " a\(index)=\"v\"" }
        #expect((try? XMLReader.parse(Array((tag + "/>").utf8)).get())?.root.attributes.count == 20_000)
        let duplicated = tag + " a19999=\"w\"/>"
        guard case .failure(let error) = XMLReader.parse(Array(duplicated.utf8)) else {
            Issue.record("a repeated attribute must be refused")
            return
        }
        #expect(error.code == "duplicate-attribute")
    }

    @Test func `a namespace prefix declared twice on one element is refused`() {
        guard case .failure(let error) = XMLReader.parse(Array("<a xmlns:p=\"urn:x\" xmlns:p=\"urn:y\"/>".utf8)) else {
            Issue.record("a repeated namespace declaration must be refused")
            return
        }
        #expect(error.code == "duplicate-attribute")
    }

    @Test func `readiness waits among thousands of workspaces on one role are checked without a pairwise graph`() throws {
        let workspaces = (0..<5_000).map { index in
            workspace("w\(index)", provides: "<identity/><role>r</role>", requires: "<role name=\"r\" muster:wait=\"ready\"/>")
        }
        let xml = "<cluster xmlns:muster=\"\(ClusterNamespace.muster)\">" + workspaces.joined() + "</cluster>"
        let diagnostics = diagnose(xml)
        #expect(diagnostics.map(\.code) == ["ready-wait-cycle"])
        #expect(diagnostics[0].message.contains("'w0' waits for itself"))
    }

    @Test func `typo suggestions stop when their budget is spent`() {
        var budget = 100
        let candidates = (0..<1_000).map { "role\($0)" }
        #expect(ClusterValidator.closest(to: "role5x", in: candidates, budget: &budget) == nil || budget >= 0)
        #expect(budget >= 0)
        var plenty = ClusterValidator.suggestionBudget
        #expect(ClusterValidator.closest(to: "rol5", in: ["role5", "other"], budget: &plenty) == "role5")
    }
}
