import Foundation
import MusterFuzz
import Testing

@testable import MusterCore

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("XML reader")
struct XMLReaderTests {
    private func parse(_ text: String) -> Result<XMLTree, XMLSyntaxError> { XMLReader.parse(Array(text.utf8)) }

    private func failure(_ text: String) throws -> XMLSyntaxError {
        guard case .failure(let error) = parse(text) else {
            Issue.record("expected a syntax error for \(text.debugDescription)")
            throw CancellationError()
        }
        return error
    }

    @Test func `reads elements, attributes, text and namespaces`() throws {
        let document = try parse(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <a xmlns="urn:one" xmlns:m="urn:two" x="1" m:y='2'><b>t&amp;u&#65;&#x42;</b><m:c/></a>
            """
        ).get()
        #expect(document.root.name.local == "a")
        #expect(document.root.name.namespace == "urn:one")
        #expect(document.root.attributes.map(\.name.local) == ["x", "y"])
        #expect(document.root.attribute("x")?.value == "1")
        #expect(document.root.attribute("y", namespaces: ["urn:two"])?.value == "2")
        #expect(document.root.children[0].text == "t&uAB")
        #expect(document.root.children[1].name.namespace == "urn:two")
        #expect(document.root.children[1].name.local == "c")
    }

    @Test func `keeps CDATA byte for byte, markup and surrounding text included`() throws {
        let value = "\n#!/bin/sh\necho \"<b> & 'q'\" ]] >\n\ttab\n"
        let document = try parse("<d><![CDATA[\(value)]]> </d>").get()
        #expect(document.root.text == value + " ")
    }

    @Test func `drops indentation between child elements but keeps whitespace-only values and mixed text`() throws {
        let indented = try parse("<a>\n  <b>  </b>\n  <c/>\n</a>").get()
        #expect(indented.root.text == "")
        #expect(indented.root.children[0].text == "  ", "a leaf's whitespace is its value")
        let mixed = try parse("<a> t <b/> u</a>").get()
        #expect(mixed.root.text == " t  u")
    }

    @Test func `normalizes CR LF line endings as XML requires`() throws {
        let document = try parse("<d>a\r\nb\rc<![CDATA[x\r\ny]]></d>").get()
        #expect(document.root.text == "a\nb\ncx\ny")
    }

    @Test func `records element, attribute-value and text positions`() throws {
        let text = "<a>\n  <b k=\"v\">\n    text</b>\n</a>"
        let document = try parse(text).get()
        let b = document.root.children[0]
        #expect(document.location(of: b.offset) == SourcePosition(line: 2, column: 3))
        #expect(document.location(of: b.attributes[0].valueOffset) == SourcePosition(line: 2, column: 9))
        #expect(document.location(of: b.significantTextOffset!) == SourcePosition(line: 3, column: 5))
    }

    @Test func `counts columns in characters, not bytes`() throws {
        let document = try parse("<a>é<b/></a>").get()
        #expect(document.location(of: document.root.children[0].offset) == SourcePosition(line: 1, column: 5))
    }

    @Test(arguments: [
        ("<a><b></a>", "mismatched-tag", 1, 7),
        ("<a>\n  <b>x</c>\n</a>", "mismatched-tag", 2, 7),
        ("<a>", "unclosed-element", 1, 4),
        ("<a></a>\n<b/>", "content-after-root", 2, 1),
        ("<a>x &foo; y</a>", "undefined-entity", 1, 6),
        ("<a>x & y</a>", "invalid-reference", 1, 6),
        ("<a b=\"1\" b=\"2\"/>", "duplicate-attribute", 1, 10),
        ("<a b=\"<\"/>", "lt-in-attribute", 1, 7),
        ("<a b=1/>", "expected-quote", 1, 6),
        ("<a b/>", "expected-equals", 1, 5),
        ("<a><!-- x -- y --></a>", "double-hyphen-in-comment", 1, 11),
        ("<a><![CDATA[x</a>", "unclosed-cdata", 1, 4),
        ("<a>]]></a>", "cdata-end-in-text", 1, 4),
        ("<a>\u{01}</a>", "invalid-character", 1, 4),
        ("<p:a/>", "undeclared-prefix", 1, 2),
        ("", "no-root", 1, 1),
        ("text", "text-outside-root", 1, 1),
        ("<a/><?xml version=\"1.0\"?>", "misplaced-declaration", 1, 5),
        ("<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>", "unsupported-encoding", 1, 1),
        ("<a x=\"1\"y=\"2\"/>", "expected-space", 1, 9),
        ("<a>&#0;</a>", "invalid-reference", 1, 4),
        ("<?xml version=\"1.0a encoding=\"UTF-8\"?><a/>", "unsupported-version", 1, 16),
        ("<?x<y?><a/>", "invalid-processing-instruction", 1, 4),
        ("<a xmlns=\"urn:a b\"/>", "invalid-namespace", 1, 11),
    ])
    func `reports the first syntax error with its exact position`(text: String, code: String, line: Int, column: Int) throws {
        let error = try failure(text)
        #expect(error.code == code, "\(error.message)")
        #expect(error.location == SourcePosition(line: line, column: column), "\(error.message)")
        #expect(!error.message.isEmpty)
    }

    @Test func `refuses a DOCTYPE before reading any of it`() throws {
        let error = try failure("<?xml version=\"1.0\"?>\n<!DOCTYPE cluster SYSTEM \"http://example.com/x.dtd\">\n<cluster/>")
        #expect(error.code == "doctype-refused")
        #expect(error.location == SourcePosition(line: 2, column: 1))
    }

    @Test func `rejects a billion-laughs bomb at once instead of expanding it`() throws {
        var bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
        bomb += " <!ENTITY lol1 \"" + String(repeating: "&lol;", count: 10) + "\">\n"
        for level in 2...9 {
            bomb += " <!ENTITY lol\(level) \"" + String(repeating: "&lol\(level - 1);", count: 10) + "\">\n"
        }
        bomb += "]>\n<cluster>&lol9;</cluster>\n"
        let clock = ContinuousClock()
        var result: Result<XMLTree, XMLSyntaxError>?
        let elapsed = clock.measure { result = XMLReader.parse(Array(bomb.utf8)) }
        guard case .failure(let error) = result else {
            Issue.record("the bomb was accepted")
            return
        }
        #expect(error.code == "doctype-refused")
        // Not a timing goal: a generous bound that only an expansion (gigabytes) could break.
        #expect(elapsed < .seconds(10))
    }

    @Test func `rejects invalid UTF-8 at the offending byte`() throws {
        var bytes = Array("<a>\nok ".utf8)
        bytes.append(0xFF)
        bytes += Array("</a>".utf8)
        guard case .failure(let error) = XMLReader.parse(bytes) else {
            Issue.record("accepted invalid UTF-8")
            return
        }
        #expect(error.code == "invalid-encoding")
        #expect(error.location == SourcePosition(line: 2, column: 4))
    }

    @Test func `limits nesting depth instead of exhausting the stack`() throws {
        let depth = XMLReader.maximumDepth + 10
        let text = String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth)
        let error = try failure(text)
        #expect(error.code == "too-deep")
    }

    @Test func `accepts a byte-order mark, comments and processing instructions around the root`() throws {
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
        bytes += Array("<?xml version=\"1.0\"?>\n<!-- c -->\n<?pi x?>\n<a/>\n<!-- after -->\n".utf8)
        let document = try XMLReader.parse(bytes).get()
        #expect(document.root.name.local == "a")
        #expect(document.location(of: document.root.offset) == SourcePosition(line: 4, column: 1))
    }

    @Test func `a syntax error that quotes the document shows its control characters inertly`() throws {
        let error = try failure("<a>x</a\u{85}\u{202E}>")
        #expect(error.code == "mismatched-tag")
        #expect(error.message.contains("</a\\u{0085}\\u{202E}>"))
        #expect(TerminalText.isInert(error.message))
    }

    /// Differential check against libxml2 (through Foundation's XMLParser): on every variant of a real document
    /// with one byte changed, both readers must agree on whether it is well-formed.
    @Test(arguments: ["hello-cluster.xml", "ec2basecluster.xml", "uc.blast-cluster-002-masterslave.xml"])
    func `agrees with libxml2 on well-formedness of mutated documents`(fixture: String) throws {
        let base = Array(try Fixtures.nimbus(fixture))
        var random = SplitMix64(seed: UInt64(fixture.utf8.count))
        let replacements: [UInt8] = Array("<>&/\"'=![]-? ax;".utf8)
        var disagreements: [String] = []
        for _ in 0..<1500 {
            var bytes = base
            let position = Int(random.next() % UInt64(bytes.count))
            switch random.next() % 3 {
            case 0: bytes[position] = replacements[Int(random.next() % UInt64(replacements.count))]
            case 1: bytes.remove(at: position)
            default: bytes.insert(replacements[Int(random.next() % UInt64(replacements.count))], at: position)
            }
            let ours: Bool
            if case .success = XMLReader.parse(bytes) { ours = true } else { ours = false }
            let parser = XMLParser(data: Data(bytes))
            parser.shouldProcessNamespaces = true
            let theirs = parser.parse() && parser.parserError == nil
            if ours != theirs {
                let context = String(decoding: bytes[max(0, position - 30)..<min(bytes.count, position + 30)], as: UTF8.self)
                disagreements.append(
                    "\(ours ? "we accept" : "we reject") what libxml2 \(theirs ? "accepts" : "rejects") near \(context.debugDescription)"
                )
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements; first: \(disagreements.prefix(3).joined(separator: "\n"))")
    }
}
