/// A strict, non-validating XML 1.0 reader for cluster documents.
///
/// Why not Foundation's `XMLParser`: on Linux it reports `true` for some malformed input, gives errors without a
/// message and element positions at the end of the start tag, and on a 10,000-workspace document it alone takes
/// most of the 200 ms budget for validation. This reader is a single pass over the bytes that:
///
/// - checks well-formedness (tag nesting, attribute syntax and uniqueness, references, comments, CDATA, UTF-8,
///   control characters, one root element) and stops at the first error with its exact position;
/// - resolves namespaces (undeclared prefixes are errors);
/// - **refuses** `<!DOCTYPE>` outright, so no entity can be declared, expanded or fetched: only the five
///   predefined entities and character references exist;
/// - records the byte offset of every element, attribute value and first significant text, for diagnostics.
public enum XMLReader {
    /// Elements may nest at most this deep; deeper documents are rejected rather than exhausting the stack.
    public static let maximumDepth = 256

    /// Parses a whole document.
    public static func parse(_ bytes: [UInt8]) -> Result<XMLTree, XMLSyntaxError> {
        let lines = LineTable(bytes)
        var scanner = XMLScanner(bytes: bytes)
        do {
            let root = try scanner.parseDocument()
            return .success(XMLTree(root: root, bytes: bytes, lines: lines))
        } catch {
            return .failure(
                XMLSyntaxError(
                    code: error.code,
                    // Messages quote the document, which may hold control characters.
                    message: TerminalText.inert(error.message),
                    offset: error.offset,
                    location: lines.location(of: error.offset)
                )
            )
        }
    }
}

/// The scanner behind ``XMLReader``: one forward pass with an explicit stack of open elements.
struct XMLScanner {
    struct Failure: Error {
        var code: String
        var message: String
        var offset: Int
    }

    private struct OpenElement {
        /// Where the qualified name is in the document (compared byte for byte with the end tag).
        var qualifiedName: Range<Int>
        var qualified: String
        var prefix: String?
        var local: String
        var rawAttributes: [RawAttribute]
        var children: [XMLTree.Element] = []
        var text: [UInt8] = []
        var significantTextOffset: Int?
        var offset: Int
        var declaredPrefixes: [String]
    }

    private struct RawAttribute {
        var prefix: String?
        var local: String
        var qualified: String
        var value: String
        var offset: Int
        var valueOffset: Int
    }

    private static let xmlNamespace = "http://www.w3.org/XML/1998/namespace"

    private let bytes: [UInt8]
    private var index = 0
    /// In-scope namespace bindings: prefix ("" for the default namespace) to a stack of URIs.
    private var bindings: [String: [String]] = ["xml": [xmlNamespace]]
    /// The default namespace in scope (the top of `bindings[""]`), kept apart because every unprefixed element
    /// looks it up; `nil` when none is declared or it was undeclared with `xmlns=""`.
    private var defaultNamespace: String?

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: Document

    mutating func parseDocument() throws(Failure) -> XMLTree.Element {
        if let bad = Self.firstInvalidUTF8(bytes) {
            throw Failure(code: "invalid-encoding", message: "the document is not valid UTF-8 (byte 0x\(hex(bytes[bad])))", offset: bad)
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        if hasPrefix("<?xml"), index + 5 < bytes.count, isWhitespace(bytes[index + 5]) {
            try parseDeclaration()
        }
        try parseMisc()
        guard index < bytes.count else {
            throw Failure(code: "no-root", message: "the document has no root element", offset: index)
        }
        guard bytes[index] == UInt8(ascii: "<") else {
            throw Failure(code: "text-outside-root", message: "text is not allowed outside the root element", offset: index)
        }
        let root = try parseElementTree()
        try parseMisc()
        if index < bytes.count {
            throw Failure(
                code: "content-after-root",
                message: "unexpected content after the end of the root element; a document has exactly one root element",
                offset: index
            )
        }
        return root
    }

    /// Parses `<?xml version="1.x" encoding="…" standalone="…"?>` strictly, in that order.
    private mutating func parseDeclaration() throws(Failure) {
        let start = index
        index += 5
        let order = ["version", "encoding", "standalone"]
        var last = -1
        while true {
            let hadSpace = skipWhitespace()
            if hasPrefix("?>") {
                index += 2
                break
            }
            guard hadSpace, let nameRange = scanName() else {
                throw Failure(code: "invalid-declaration", message: "malformed XML declaration; expected version=\"1.0\"", offset: index)
            }
            let name = string(bytes[nameRange])
            guard let position = order.firstIndex(of: name), position > last, last >= 0 || position == 0 else {
                throw Failure(
                    code: "invalid-declaration",
                    message: "unexpected '\(name)' in the XML declaration; it takes version, encoding and standalone, in that order",
                    offset: nameRange.lowerBound
                )
            }
            last = position
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                throw Failure(code: "invalid-declaration", message: "expected '=' after '\(name)' in the XML declaration", offset: index)
            }
            index += 1
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                throw Failure(code: "invalid-declaration", message: "the value of '\(name)' must be in quotes", offset: index)
            }
            let quote = bytes[index]
            let valueStart = index + 1
            guard let valueEnd = bytes[valueStart...].firstIndex(of: quote) else {
                throw Failure(code: "invalid-declaration", message: "the XML declaration is not closed", offset: start)
            }
            let value = string(bytes[valueStart..<valueEnd])
            index = valueEnd + 1
            switch name {
            case "version":
                let minor = value.dropFirst(2)
                guard value.hasPrefix("1."), !minor.isEmpty, minor.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                    throw Failure(code: "unsupported-version", message: "XML version '\(value)' is not supported", offset: valueStart)
                }
            case "encoding":
                guard ["utf-8", "utf8", "us-ascii", "ascii"].contains(value.lowercased()) else {
                    throw Failure(
                        code: "unsupported-encoding",
                        message: "encoding '\(value)' is not supported; save the document as UTF-8",
                        offset: start
                    )
                }
            default:
                guard value == "yes" || value == "no" else {
                    throw Failure(code: "invalid-declaration", message: "standalone must be 'yes' or 'no'", offset: valueStart)
                }
            }
        }
        if last < 0 {
            throw Failure(code: "invalid-declaration", message: "the XML declaration must give version=\"1.0\"", offset: start)
        }
    }

    /// Comments, processing instructions and whitespace before or after the root element.
    private mutating func parseMisc() throws(Failure) {
        while index < bytes.count {
            let byte = bytes[index]
            if isWhitespace(byte) {
                index += 1
            } else if hasPrefix("<!--") {
                try skipComment()
            } else if hasPrefix("<?") {
                try skipProcessingInstruction()
            } else if hasPrefix("<!DOCTYPE") || hasPrefix("<!doctype") {
                throw Failure(
                    code: "doctype-refused",
                    message:
                        "document type declarations (<!DOCTYPE>) are refused: Muster never expands or fetches entities; remove the DOCTYPE",
                    offset: index
                )
            } else if hasPrefix("<!ENTITY") {
                throw Failure(code: "entity-refused", message: "entity declarations are refused; remove <!ENTITY …>", offset: index)
            } else {
                // The root element (before it) or stray content (after it); the caller decides.
                return
            }
        }
    }

    // MARK: Elements

    private mutating func parseElementTree() throws(Failure) -> XMLTree.Element {
        var stack: [OpenElement] = []
        stack.append(try parseStartTag())
        if let finished = takeFinished() { return finished }
        while !stack.isEmpty {
            guard index < bytes.count else {
                let open = stack[stack.count - 1]
                throw Failure(
                    code: "unclosed-element",
                    message: "the document ends before <\(open.qualified)> (opened at byte \(open.offset)) is closed",
                    offset: index
                )
            }
            let byte = bytes[index]
            if byte == UInt8(ascii: "<") {
                if hasPrefix("</") {
                    let element = try parseEndTag(closing: stack.removeLast())
                    if stack.isEmpty { return element }
                    stack[stack.count - 1].children.append(element)
                } else if hasPrefix("<!--") {
                    try skipComment()
                } else if hasPrefix("<![CDATA[") {
                    try parseCDATA(into: &stack[stack.count - 1])
                } else if hasPrefix("<?") {
                    try skipProcessingInstruction()
                } else if hasPrefix("<!DOCTYPE") || hasPrefix("<!ENTITY") {
                    throw Failure(code: "doctype-refused", message: "declarations are not allowed inside elements", offset: index)
                } else if hasPrefix("<!") {
                    throw Failure(code: "invalid-markup", message: "unexpected '<!'; expected a comment '<!--' or CDATA '<![CDATA['", offset: index)
                } else {
                    if stack.count >= XMLReader.maximumDepth {
                        throw Failure(code: "too-deep", message: "elements nest deeper than \(XMLReader.maximumDepth) levels", offset: index)
                    }
                    let open = try parseStartTag()
                    if let finished = takeFinished() {
                        stack[stack.count - 1].children.append(finished)
                    } else {
                        stack.append(open)
                    }
                }
            } else if byte == UInt8(ascii: "&") {
                let referenceOffset = index
                let scalarBytes = try parseReference()
                markSignificant(&stack[stack.count - 1], at: referenceOffset)
                stack[stack.count - 1].text.append(contentsOf: scalarBytes)
            } else {
                try parseCharacterData(into: &stack[stack.count - 1])
            }
        }
        preconditionFailure("unreachable: the loop returns when the root closes")
    }

    /// Set when the last start tag was self-closing (`<x/>`): the finished element, not yet attached.
    private var finishedEmptyElement: XMLTree.Element?

    private mutating func takeFinished() -> XMLTree.Element? {
        defer { finishedEmptyElement = nil }
        return finishedEmptyElement
    }

    private mutating func parseStartTag() throws(Failure) -> OpenElement {
        let start = index
        index += 1  // '<'
        guard let nameRange = scanName() else {
            throw Failure(code: "expected-name", message: "expected an element name after '<'", offset: index)
        }
        var attributes: [RawAttribute] = []
        var declared: [String] = []
        /// The names of the `xmlns` attributes, which are not kept in `attributes`.
        var declarations: [String] = []
        /// Every attribute name so far, once the tag has too many to compare one by one.
        var seen: Set<String>?
        var selfClosing = false
        while true {
            let hadSpace = skipWhitespace()
            guard index < bytes.count else {
                throw Failure(code: "unclosed-tag", message: "the start tag <\(string(bytes[nameRange]))> is not closed with '>'", offset: start)
            }
            if bytes[index] == UInt8(ascii: ">") {
                index += 1
                break
            }
            if hasPrefix("/>") {
                index += 2
                selfClosing = true
                break
            }
            guard hadSpace else {
                throw Failure(code: "expected-space", message: "expected whitespace, '>' or '/>' in the start tag", offset: index)
            }
            let attributeOffset = index
            guard let attributeName = scanName() else {
                throw Failure(code: "invalid-attribute", message: "expected an attribute name, '>' or '/>'", offset: index)
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                throw Failure(
                    code: "expected-equals",
                    message: "expected '=' after attribute '\(string(bytes[attributeName]))'",
                    offset: index
                )
            }
            index += 1
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                throw Failure(
                    code: "expected-quote",
                    message: "the value of attribute '\(string(bytes[attributeName]))' must be in quotes",
                    offset: index
                )
            }
            let valueOffset = index + 1
            let value = try parseAttributeValue()
            let (attributePrefix, attributeLocal, qualified) = names(attributeName)
            let isDuplicate: Bool
            if seen != nil {
                isDuplicate = !seen!.insert(qualified).inserted
            } else {
                isDuplicate = attributes.contains { $0.qualified == qualified } || declarations.contains(qualified)
                if attributes.count + declarations.count >= linearAttributeLimit {
                    seen = Set(attributes.map(\.qualified) + declarations + [qualified])
                }
            }
            if isDuplicate {
                throw Failure(code: "duplicate-attribute", message: "attribute '\(qualified)' appears twice", offset: attributeOffset)
            }
            if qualified == "xmlns" || qualified.hasPrefix("xmlns:"), let problem = Self.uriProblem(value) {
                throw Failure(code: "invalid-namespace", message: "namespace name '\(value)' is not a valid URI: \(problem)", offset: valueOffset)
            }
            if qualified == "xmlns" || qualified.hasPrefix("xmlns:") { declarations.append(qualified) }
            if qualified == "xmlns" {
                bind(prefix: "", to: value)
                declared.append("")
            } else if qualified.hasPrefix("xmlns:") {
                let prefix = String(qualified.dropFirst(6))
                if value.isEmpty {
                    throw Failure(
                        code: "empty-namespace",
                        message: "namespace prefix '\(prefix)' cannot be bound to an empty URI",
                        offset: valueOffset
                    )
                }
                bind(prefix: prefix, to: value)
                declared.append(prefix)
            } else {
                attributes.append(
                    RawAttribute(
                        prefix: attributePrefix,
                        local: attributeLocal,
                        qualified: qualified,
                        value: value,
                        offset: attributeOffset,
                        valueOffset: valueOffset
                    )
                )
            }
        }
        let (prefix, local, qualified) = names(nameRange)
        let open = OpenElement(
            qualifiedName: nameRange,
            qualified: qualified,
            prefix: prefix,
            local: local,
            rawAttributes: attributes,
            offset: start,
            declaredPrefixes: declared
        )
        if selfClosing {
            finishedEmptyElement = try close(open)
        }
        return open
    }

    private mutating func parseEndTag(closing open: OpenElement) throws(Failure) -> XMLTree.Element {
        let start = index
        index += 2
        guard let nameRange = scanName() else {
            throw Failure(code: "expected-name", message: "expected an element name after '</'", offset: index)
        }
        if !bytes[nameRange].elementsEqual(bytes[open.qualifiedName]) {
            throw Failure(
                code: "mismatched-tag",
                message: "end tag </\(string(bytes[nameRange]))> does not match the open element <\(open.qualified)>",
                offset: start
            )
        }
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else {
            throw Failure(code: "unclosed-tag", message: "the end tag </\(open.qualified)> is not closed with '>'", offset: start)
        }
        index += 1
        return try close(open)
    }

    /// Resolves names against the bindings in scope, builds the element, and pops its namespace declarations.
    private mutating func close(_ open: OpenElement) throws(Failure) -> XMLTree.Element {
        defer {
            if !open.declaredPrefixes.isEmpty {
                for prefix in open.declaredPrefixes { bindings[prefix]?.removeLast() }
                defaultNamespace = bindings[""]?.last.flatMap { $0.isEmpty ? nil : $0 }
            }
        }
        let elementNamespace: String?
        if let prefix = open.prefix {
            guard let uri = bindings[prefix]?.last else {
                throw Failure(code: "undeclared-prefix", message: "namespace prefix '\(prefix)' is not declared", offset: open.offset + 1)
            }
            elementNamespace = uri
        } else {
            elementNamespace = defaultNamespace
        }
        var attributes: [XMLTree.Attribute] = []
        attributes.reserveCapacity(open.rawAttributes.count)
        var seen: Set<String>? = open.rawAttributes.count > linearAttributeLimit ? [] : nil
        for raw in open.rawAttributes {
            var namespace: String?
            if let prefix = raw.prefix {
                guard let uri = bindings[prefix]?.last else {
                    throw Failure(code: "undeclared-prefix", message: "namespace prefix '\(prefix)' is not declared", offset: raw.offset)
                }
                namespace = uri
            }
            let name = XMLTree.Name(namespace: namespace, local: raw.local, qualified: raw.qualified)
            let isDuplicate =
                seen == nil
                ? attributes.contains { $0.name.namespace == namespace && $0.name.local == raw.local }
                : !seen!.insert((namespace ?? "") + "\u{0}" + raw.local).inserted
            if isDuplicate {
                throw Failure(code: "duplicate-attribute", message: "attribute '\(raw.qualified)' appears twice", offset: raw.offset)
            }
            attributes.append(XMLTree.Attribute(name: name, value: raw.value, offset: raw.offset, valueOffset: raw.valueOffset))
        }
        return XMLTree.Element(
            name: XMLTree.Name(namespace: elementNamespace, local: open.local, qualified: open.qualified),
            attributes: attributes,
            children: open.children,
            // Whitespace between child elements is indentation, not content: not worth a string per element.
            text: open.text.isEmpty || (!open.children.isEmpty && open.significantTextOffset == nil) ? "" : string(open.text),
            significantTextOffset: open.significantTextOffset,
            offset: open.offset
        )
    }

    private mutating func bind(prefix: String, to uri: String) {
        bindings[prefix, default: []].append(uri)
        if prefix.isEmpty { defaultNamespace = uri.isEmpty ? nil : uri }
    }

    /// The prefix, local part and whole of the name at `range`, split at the colon without decoding characters.
    private func names(_ range: Range<Int>) -> (prefix: String?, local: String, qualified: String) {
        let qualified = string(bytes[range])
        guard let colon = bytes[range].firstIndex(of: UInt8(ascii: ":")) else { return (nil, qualified, qualified) }
        return (string(bytes[range.lowerBound..<colon]), string(bytes[(colon + 1)..<range.upperBound]), qualified)
    }

    // MARK: Content

    private mutating func parseCharacterData(into element: inout OpenElement) throws(Failure) {
        var runStart = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "<") || byte == UInt8(ascii: "&") { break }
            if byte == UInt8(ascii: "]"), hasPrefix("]]>") {
                throw Failure(code: "cdata-end-in-text", message: "']]>' is not allowed in text", offset: index)
            }
            if byte == 0x0D {
                // Normalize \r\n and lone \r to \n, as XML requires.
                element.text.append(contentsOf: bytes[runStart..<index])
                element.text.append(0x0A)
                index += (index + 1 < bytes.count && bytes[index + 1] == 0x0A) ? 2 : 1
                runStart = index
                continue
            }
            if byte < 0x20 && byte != 0x09 && byte != 0x0A {
                throw invalidCharacter(byte)
            }
            if element.significantTextOffset == nil && !isWhitespace(byte) {
                element.significantTextOffset = index
            }
            index += 1
        }
        if runStart < index { element.text.append(contentsOf: bytes[runStart..<index]) }
    }

    private mutating func parseCDATA(into element: inout OpenElement) throws(Failure) {
        let start = index
        index += 9
        guard let end = find("]]>", from: index) else {
            throw Failure(code: "unclosed-cdata", message: "the CDATA section is not closed with ']]>'", offset: start)
        }
        var position = index
        while position < end {
            let byte = bytes[position]
            if byte == 0x0D {
                element.text.append(0x0A)
                position += (position + 1 < end && bytes[position + 1] == 0x0A) ? 2 : 1
                continue
            }
            if byte < 0x20 && byte != 0x09 && byte != 0x0A {
                index = position
                throw invalidCharacter(byte)
            }
            if element.significantTextOffset == nil && !isWhitespace(byte) { element.significantTextOffset = position }
            element.text.append(byte)
            position += 1
        }
        index = end + 3
    }

    private mutating func markSignificant(_ element: inout OpenElement, at offset: Int) {
        if element.significantTextOffset == nil { element.significantTextOffset = offset }
    }

    /// Parses `&name;`, `&#N;` or `&#xH;` at `index` and returns the UTF-8 bytes it stands for.
    private mutating func parseReference() throws(Failure) -> [UInt8] {
        let start = index
        guard let semicolon = bytes[index...].prefix(40).firstIndex(of: UInt8(ascii: ";")) else {
            throw Failure(
                code: "invalid-reference",
                message: "'&' must start a reference like '&amp;'; write '&amp;' for a literal '&'",
                offset: start
            )
        }
        let body = string(bytes[(index + 1)..<semicolon])
        index = semicolon + 1
        switch body {
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "amp": return [UInt8(ascii: "&")]
        case "quot": return [UInt8(ascii: "\"")]
        case "apos": return [UInt8(ascii: "'")]
        default: break
        }
        if body.hasPrefix("#") {
            let digits = body.dropFirst()
            let value: UInt32? =
                digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : (digits.allSatisfy(\.isASCII) ? UInt32(digits, radix: 10) : nil)
            guard let value, let scalar = Unicode.Scalar(value), Self.isAllowedCharacter(value) else {
                throw Failure(code: "invalid-reference", message: "'&\(body);' is not a valid character reference", offset: start)
            }
            return Array(String(Character(scalar)).utf8)
        }
        throw Failure(
            code: "undefined-entity",
            message: "undefined entity '&\(body);': only &lt; &gt; &amp; &quot; &apos; and character references are allowed",
            offset: start
        )
    }

    private mutating func parseAttributeValue() throws(Failure) -> String {
        let quote = bytes[index]
        let start = index
        index += 1
        var value: [UInt8] = []
        while true {
            guard index < bytes.count else {
                throw Failure(
                    code: "unclosed-attribute",
                    message: "the attribute value is not closed with \(quote == 0x22 ? "'\"'" : "\"'\"")",
                    offset: start
                )
            }
            let byte = bytes[index]
            if byte == quote {
                index += 1
                return string(value)
            }
            switch byte {
            case UInt8(ascii: "<"):
                throw Failure(code: "lt-in-attribute", message: "'<' is not allowed in an attribute value; write '&lt;'", offset: index)
            case UInt8(ascii: "&"):
                value.append(contentsOf: try parseReference())
            case 0x0D:
                value.append(0x20)
                index += (index + 1 < bytes.count && bytes[index + 1] == 0x0A) ? 2 : 1
            case 0x09, 0x0A:
                value.append(0x20)
                index += 1
            default:
                if byte < 0x20 { throw invalidCharacter(byte) }
                value.append(byte)
                index += 1
            }
        }
    }

    private mutating func skipComment() throws(Failure) {
        let start = index
        guard let end = find("--", from: index + 4) else {
            throw Failure(code: "unclosed-comment", message: "the comment is not closed with '-->'", offset: start)
        }
        guard end + 2 < bytes.count, bytes[end + 2] == UInt8(ascii: ">") else {
            throw Failure(code: "double-hyphen-in-comment", message: "'--' is not allowed inside a comment", offset: end)
        }
        try checkCharacters(from: index + 4, to: end)
        index = end + 3
    }

    private mutating func skipProcessingInstruction() throws(Failure) {
        let start = index
        index += 2
        guard let nameRange = scanName() else {
            throw Failure(code: "expected-name", message: "expected a processing instruction target after '<?'", offset: index)
        }
        guard hasPrefix("?>") || (index < bytes.count && isWhitespace(bytes[index])) else {
            throw Failure(
                code: "invalid-processing-instruction",
                message: "expected whitespace or '?>' after the processing instruction target",
                offset: index
            )
        }
        if string(bytes[nameRange]).lowercased() == "xml" {
            throw Failure(
                code: "misplaced-declaration",
                message: "the XML declaration '<?xml …?>' is only allowed at the very start of the document",
                offset: start
            )
        }
        guard let end = find("?>", from: index) else {
            throw Failure(code: "unclosed-processing-instruction", message: "the processing instruction is not closed with '?>'", offset: start)
        }
        try checkCharacters(from: index, to: end)
        index = end + 2
    }

    private mutating func checkCharacters(from start: Int, to end: Int) throws(Failure) {
        var position = start
        while position < end {
            let byte = bytes[position]
            if byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D {
                index = position
                throw invalidCharacter(byte)
            }
            position += 1
        }
    }

    // MARK: Lexical helpers

    private func invalidCharacter(_ byte: UInt8) -> Failure {
        Failure(code: "invalid-character", message: "control character U+\(hex(byte, width: 4)) is not allowed in XML", offset: index)
    }

    @discardableResult
    private mutating func skipWhitespace() -> Bool {
        let start = index
        while index < bytes.count, isWhitespace(bytes[index]) { index += 1 }
        return index > start
    }

    private mutating func scanName() -> Range<Int>? {
        let start = index
        guard index < bytes.count, Self.isNameStart(bytes[index]) else { return nil }
        index += 1
        while index < bytes.count, Self.isNameByte(bytes[index]) { index += 1 }
        return start..<index
    }

    private func hasPrefix(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return literal.withUTF8Buffer { buffer in
            var offset = 0
            while offset < count {
                if bytes[index + offset] != buffer[offset] { return false }
                offset += 1
            }
            return true
        }
    }

    private func find(_ literal: StaticString, from start: Int) -> Int? {
        literal.withUTF8Buffer { needle -> Int? in
            guard let first = needle.first else { return start }
            var position = start
            while position + needle.count <= bytes.count {
                if bytes[position] == first {
                    var matched = true
                    var offset = 1
                    while offset < needle.count {
                        if bytes[position + offset] != needle[offset] {
                            matched = false
                            break
                        }
                        offset += 1
                    }
                    if matched { return position }
                }
                position += 1
            }
            return nil
        }
    }

    private func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D
    }

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || byte >= 0x80
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        isNameStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    /// Why a namespace name is not a URI reference (RFC 3986), checked as far as the forms people write.
    static func uriProblem(_ uri: String) -> String? {
        let scalars = Array(uri.unicodeScalars)
        if let bad = scalars.first(where: { " <>\"{}|\\^`[]\t\n\r".unicodeScalars.contains($0) }) {
            return "it contains '\(bad.escaped(asASCII: true))'"
        }
        var index = 0
        while index < scalars.count {
            if scalars[index] == "%" {
                guard index + 2 < scalars.count, scalars[index + 1].properties.isASCIIHexDigit, scalars[index + 2].properties.isASCIIHexDigit else {
                    return "'%' must be followed by two hexadecimal digits"
                }
                index += 3
            } else {
                index += 1
            }
        }
        // A scheme is everything before the first ':' that comes before any '/', '?' or '#'.
        if let colon = scalars.firstIndex(of: ":"), !scalars[..<colon].contains(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            let scheme = scalars[..<colon]
            guard let first = scheme.first, first.properties.isAlphabetic, first.isASCII,
                scheme.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) })
            else {
                return "'\(String(String.UnicodeScalarView(scheme)))' is not a valid URI scheme"
            }
            return nil
        }
        return uri.isEmpty ? nil : "a namespace name must be an absolute URI, like urn:… or http://…"
    }

    private static func isAllowedCharacter(_ value: UInt32) -> Bool {
        value == 0x09 || value == 0x0A || value == 0x0D || (value >= 0x20 && value <= 0xD7FF) || (value >= 0xE000 && value <= 0xFFFD)
            || (value >= 0x10000 && value <= 0x10FFFF)
    }

    private func string<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: bytes, as: UTF8.self)
    }

    private func hex(_ byte: UInt8, width: Int = 2) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The offset of the first byte that does not belong to a valid UTF-8 sequence, if any.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var minimum: UInt32
            var value: UInt32
            switch lead {
            case 0xC2...0xDF:
                length = 2
                minimum = 0x80
                value = UInt32(lead & 0x1F)
            case 0xE0...0xEF:
                length = 3
                minimum = 0x800
                value = UInt32(lead & 0x0F)
            case 0xF0...0xF4:
                length = 4
                minimum = 0x10000
                value = UInt32(lead & 0x07)
            default:
                return index
            }
            guard index + length <= count else { return index }
            for offset in 1..<length {
                let next = bytes[index + offset]
                guard next & 0xC0 == 0x80 else { return index }
                value = (value << 6) | UInt32(next & 0x3F)
            }
            if value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF) { return index }
            index += length
        }
        return nil
    }
}

/// Up to this many attributes of one element are checked for repeats one by one (no allocation); past it, with a
/// set, so that the check stays linear however many attributes an element has.
private let linearAttributeLimit = 16
