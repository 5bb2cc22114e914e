extension XMLTree {
    /// A qualified XML name: the namespace it resolved to and its local part.
    public struct Name: Sendable, Hashable {
        /// The namespace URI the name's prefix (or the default namespace) resolved to; `nil` for no namespace.
        public var namespace: String?
        /// The part after the prefix.
        public var local: String
        /// The name as written, prefix included.
        public var qualified: String
    }

    /// One attribute of an ``XMLTree.Element``.
    public struct Attribute: Sendable, Hashable {
        /// The attribute's name.
        public var name: XMLTree.Name
        /// The value, with references expanded and whitespace normalized as XML requires.
        public var value: String
        /// Byte offset of the attribute's name.
        public var offset: Int
        /// Byte offset of the first character of the value (just inside the quote).
        public var valueOffset: Int
    }

    /// An element of a parsed XML document, with the byte offsets needed to point at it in diagnostics.
    ///
    /// The text of an element is every character-data and CDATA section directly inside it, concatenated in
    /// document order, so a value in CDATA comes back exactly as written (line endings normalized to `\n`, as
    /// XML requires). In an element with child elements and nothing but whitespace between them, that
    /// whitespace is indentation and the text is empty.
    ///
    /// Elements are immutable and shared: a reference, so that walking and filtering a large tree copies
    /// nothing but pointers.
    public final class Element: Sendable {
        /// The element's name.
        public let name: XMLTree.Name
        /// The element's attributes, in document order, namespace declarations excluded.
        public let attributes: [XMLTree.Attribute]
        /// Child elements in document order.
        public let children: [XMLTree.Element]
        /// Character data and CDATA directly inside this element.
        public let text: String
        /// Byte offset of the first character of text that is not whitespace, if any.
        public let significantTextOffset: Int?
        /// Byte offset of the element's `<`.
        public let offset: Int

        init(
            name: XMLTree.Name,
            attributes: [XMLTree.Attribute],
            children: [XMLTree.Element],
            text: String,
            significantTextOffset: Int?,
            offset: Int
        ) {
            self.name = name
            self.attributes = attributes
            self.children = children
            self.text = text
            self.significantTextOffset = significantTextOffset
            self.offset = offset
        }

        /// The first attribute with this local name and no namespace (or one of `namespaces`).
        public func attribute(_ local: String, namespaces: Set<String?> = [nil]) -> XMLTree.Attribute? {
            attributes.first { $0.name.local == local && namespaces.contains($0.name.namespace) }
        }
    }

}

/// A well-formed XML document, as a tree of elements with their byte offsets.
public struct XMLTree: Sendable {
    /// The root element.
    public var root: XMLTree.Element
    /// The document's bytes.
    public var bytes: [UInt8]
    let lines: LineTable

    /// The line and column of a byte offset in this document.
    public func location(of offset: Int) -> SourcePosition { lines.location(of: offset) }
}

/// Why a document is not well-formed XML, and where.
public struct XMLSyntaxError: Error, Sendable, Hashable {
    /// A stable identifier for the kind of problem.
    public var code: String
    /// What is wrong, for a person.
    public var message: String
    /// Byte offset where the problem was found.
    public var offset: Int
    /// Line and column of ``offset``.
    public var location: SourcePosition
}
