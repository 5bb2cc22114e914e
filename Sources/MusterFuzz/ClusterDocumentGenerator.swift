import MusterCore

/// Makes random cluster documents: mostly the shape of a real one (workspaces, NICs, roles, data), with
/// awkward names, values, namespaces, entities, CDATA, comments, deep nesting and odd layouts mixed in, so that
/// both the XML reader and the document decoder are exercised past their first checks.
public struct ClusterDocumentGenerator: Sendable {
    /// Creates a generator.
    public init() {}

    /// Tokens worth inserting into cluster documents when mutating them.
    public static let dictionary = [
        "<", ">", "</", "/>", "=", "\"", "'", "&", ";", "<![CDATA[", "]]>", "<!--", "-->", "<?xml version=\"1.0\"?>", "<?pi x?>",
        "<!DOCTYPE cluster>", "<!ENTITY e \"x\">", "&amp;", "&lt;", "&#x0;", "&#1114112;", "&#x10FFFF;", "&#xD800;", "&bogus;",
        "xmlns=\"\(ClusterNamespace.logistics)\"", "xmlns:muster=\"\(ClusterNamespace.muster)\"", "xmlns:p=\"\"", "muster:wait=\"ready\"",
        "<workspace>", "</workspace>", "<name>", "</name>", "<nic>", "</nic>", "<ctx>", "<provides>", "<requires>", "<identity/>",
        "<role>", "</role>", "<data name=\"d\">", "</data>", "interface=\"publicnic\"", "_interface=\"localnic\"", "<quantity>",
        "32767", "32768", "9223372036854775808", "-1", "\u{1b}[2J", "\u{202E}", "\u{FEFF}", "\r\n", "\t", "../", "/", "*", "+",
        String(repeating: "<x/>", count: 64), String(repeating: "<a>", count: 300),
    ]

    private static let names = [
        "head-node", "compute-nodes", "torquemaster", "torqueslave", "rabbitmq-head", "db", "a", "x_y", "c++", "user@realm", "v1.2",
        "publicnic", "localnic", "eth0", "", " ", ".", "..", "-rf", ".hidden", "a/b", "../etc", "a b", "*", "+", "é", "\u{202E}x",
        "semi;colon", String(repeating: "n", count: 128), String(repeating: "n", count: 129),
    ]

    private static let networks = ["public", "private", "Public-Net", "private2", "internal", "", "  public  "]

    /// One random document.
    public func generate(using random: inout some RandomNumberGenerator) -> [UInt8] {
        var xml = ""
        if chance(1, in: 4, &random) { xml += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" }
        if chance(1, in: 10, &random) { xml += "<!-- a comment -->\n" }
        let namespace = [
            "", " xmlns=\"\(ClusterNamespace.logistics)\"", " xmlns=\"\(ClusterNamespace.ctxDescription)\"",
            " xmlns=\"\(ClusterNamespace.logistics)\" xmlns:muster=\"\(ClusterNamespace.muster)\"",
        ].randomElement(using: &random)!
        xml += "<cluster\(namespace)>"
        let count = chance(1, in: 20, &random) ? Int.random(in: 20...200, using: &random) : Int.random(in: 0...4, using: &random)
        let newline = chance(1, in: 3, &random) ? "" : "\n"
        if chance(1, in: 2, &random) {
            // A clean document: what a careful author writes, so that decoding goes all the way to validation.
            let roles = Array(Self.safeNames.shuffled(using: &random).prefix(Int.random(in: 1...4, using: &random)))
            for index in 0..<max(1, count) {
                xml += newline + cleanWorkspace(index, roles: roles, using: &random)
            }
        } else {
            let roles = (0..<Int.random(in: 1...5, using: &random)).map { _ in Self.names.randomElement(using: &random)! }
            for _ in 0..<count {
                xml += newline + workspace(roles: roles, using: &random)
            }
        }
        if chance(1, in: 15, &random) { xml += String(repeating: "<x>", count: 300) + String(repeating: "</x>", count: 300) }
        xml += newline + "</cluster>\n"
        return Array(xml.utf8)
    }

    private static let safeNames = ["head-node", "compute", "torquemaster", "torqueslave", "db", "app", "c++", "user@realm", "v1.2", "x_y"]

    private func cleanWorkspace(_ index: Int, roles: [String], using random: inout some RandomNumberGenerator) -> String {
        let nics =
            chance(2, in: 3, &random)
            ? "<nic wantlogin=\"true\">\(["public", "private", "Public-2"].randomElement(using: &random)!)</nic>"
            : "<nic interface=\"publicnic\">public</nic><nic _interface=\"localnic\">private</nic>"
        var provides = chance(3, in: 4, &random) ? "<identity/>" : ""
        // The first workspace provides every role, so every requirement below can be met.
        for role in roles where index == 0 || chance(1, in: 3, &random) { provides += "<role>\(role)</role>" }
        var requires = chance(1, in: 3, &random) ? "<identity/>" : ""
        for role in roles where index > 0 && chance(1, in: 2, &random) {
            requires += "<role name=\"\(role)\" hostname=\"true\" pubkey=\"\(Bool.random(using: &random))\"/>"
        }
        if chance(1, in: 4, &random) { requires += "<data name=\"secret\"><![CDATA[s3cr3t <x/>]]></data>" }
        let ctx = "<ctx><provides>\(provides)</provides>" + (requires.isEmpty ? "" : "<requires>\(requires)</requires>") + "</ctx>"
        return "<workspace><name>w\(index)-\(Self.safeNames.randomElement(using: &random)!)</name><image>base.gz</image>"
            + "<quantity>\(Int.random(in: 1...3, using: &random))</quantity>\(nics)\(ctx)</workspace>"
    }

    private func workspace(roles: [String], using random: inout some RandomNumberGenerator) -> String {
        var parts: [String] = []
        if chance(9, in: 10, &random) { parts.append("<name>\(escaped(Self.names.randomElement(using: &random)!))</name>") }
        if chance(9, in: 10, &random) { parts.append("<image>\(["base.gz", "ami-1234", "a/b", "..", "."].randomElement(using: &random)!)</image>") }
        if chance(9, in: 10, &random) {
            parts.append(
                "<quantity>\(["1", "2", "0", "-1", "32767", "32768", "x", "9223372036854775808", " 3 "].randomElement(using: &random)!)</quantity>"
            )
        }
        for _ in 0..<[0, 1, 1, 1, 2, 3].randomElement(using: &random)! {
            var attributes = ""
            if chance(1, in: 2, &random) {
                attributes +=
                    " \(["interface", "_interface"].randomElement(using: &random)!)=\"\(escaped(Self.names.randomElement(using: &random)!))\""
            }
            if chance(1, in: 3, &random) { attributes += " wantlogin=\"\(["true", "false", "yes"].randomElement(using: &random)!)\"" }
            parts.append("<nic\(attributes)>\(escaped(Self.networks.randomElement(using: &random)!))</nic>")
        }
        var provides = ""
        for _ in 0..<Int.random(in: 0...2, using: &random) {
            provides +=
                chance(1, in: 2, &random)
                ? "<identity/>" : "<identity><interface>\(escaped(Self.names.randomElement(using: &random)!))</interface></identity>"
        }
        for _ in 0..<Int.random(in: 0...2, using: &random) {
            provides += "<role>\(escaped(roles.randomElement(using: &random)!))</role>"
        }
        var requires = ""
        if chance(1, in: 3, &random) { requires += "<identity/>" }
        for _ in 0..<Int.random(in: 0...2, using: &random) {
            let wait = chance(1, in: 4, &random) ? " muster:wait=\"\(["ready", "registered", "soon"].randomElement(using: &random)!)\"" : ""
            requires += "<role name=\"\(escaped(roles.randomElement(using: &random)!))\" hostname=\"true\"\(wait)/>"
        }
        if chance(1, in: 3, &random) {
            requires += "<data name=\"\(escaped(Self.names.randomElement(using: &random)!))\"><![CDATA[value <b>\u{1b}[1m</b>]]></data>"
        }
        var ctx = "<ctx>"
        if !provides.isEmpty || chance(1, in: 2, &random) { ctx += "<provides>\(provides)</provides>" }
        if !requires.isEmpty { ctx += "<requires>\(requires)</requires>" }
        ctx += "</ctx>"
        if chance(9, in: 10, &random) { parts.append(ctx) }
        if chance(1, in: 10, &random) { parts.append("<unknown>text</unknown>") }
        parts.shuffle(using: &random)
        return "<workspace>" + parts.joined() + "</workspace>"
    }

    private func escaped(_ text: String) -> String {
        text.replacingAll("&", with: "&amp;").replacingAll("<", with: "&lt;").replacingAll("\"", with: "&quot;")
    }

    private func chance(_ numerator: Int, in denominator: Int, _ random: inout some RandomNumberGenerator) -> Bool {
        Int.random(in: 0..<denominator, using: &random) < numerator
    }
}

extension String {
    /// The string with every occurrence of `target` replaced (without Foundation).
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self { if character == target { result += replacement } else { result.append(character) } }
        return result
    }
}
