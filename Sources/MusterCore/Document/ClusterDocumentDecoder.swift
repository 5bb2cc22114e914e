/// Where the parts of a decoded document were written (byte offsets), for diagnostics found after decoding.
///
/// Offsets become lines and columns only for the diagnostics reported, so a large valid document pays nothing.
struct ClusterSourceMap: Sendable {
    struct Workspace: Sendable {
        var element: Int
        var name: Int
        var requiredRoles: [Int] = []
        var providedRoles: [Int] = []
        var data: [Int] = []
    }

    var root: Int
    var workspaces: [Workspace] = []
}

/// Turns a well-formed XML tree into a ``ClusterDocument``, reporting every structural problem it finds.
///
/// It is lenient about element order (Nimbus's schema fixes one, but people write others) and strict about
/// everything that changes meaning: unknown or misplaced elements, missing required parts, values that do not
/// parse. It decodes as much as it can even after errors, so that one run reports every problem.
struct ClusterDocumentDecoder {
    private let xml: XMLTree
    /// Every problem found, kept within the collector's limit.
    private(set) var collector: DiagnosticCollector

    init(_ xml: XMLTree, collector: DiagnosticCollector = DiagnosticCollector()) {
        self.xml = xml
        self.collector = collector
    }

    /// Nimbus's quantity is an `xs:short`; more than this in one workspace is a typo, not a plan.
    static let maximumQuantity = 32_767

    /// Where each element of the format belongs, for "misplaced element" messages.
    private static let homes: [String: String] = [
        "cluster": "the document root",
        "workspace": "<cluster>",
        "active": "<workspace>",
        "name": "<workspace>",
        "image": "<workspace> or <deploy>",
        "quantity": "<workspace> or <deploy>",
        "nic": "<workspace>",
        "ctx": "<workspace>",
        "deploy": "<workspace>",
        "cloud": "<deploy>",
        "provides": "<ctx>",
        "requires": "<ctx>",
        "identity": "<provides> or <requires>",
        "role": "<provides> or <requires>",
        "data": "<requires>",
        "interface": "<provides><identity>",
        "_interface": "<provides><identity>",
        "ip": "<identity>",
        "hostname": "<identity>",
        "pubkey": "<identity>",
    ]

    // MARK: Entry

    mutating func decode() -> (ClusterDocument, ClusterSourceMap) {
        let root = xml.root
        var map = ClusterSourceMap(root: root.offset)
        guard root.name.local == "cluster", isNimbus(root) else {
            error(
                "unexpected-root",
                "the root element is <\(root.name.qualified)>, expected <cluster> (optionally in the Nimbus namespace \(ClusterNamespace.logistics))",
                at: root.offset
            )
            return (ClusterDocument(workspaces: []), map)
        }
        checkAttributes(of: root, allowed: [])
        rejectText(in: root)
        var workspaces: [WorkspaceSpec] = []
        for child in children(of: root, allowed: ["workspace"]) {
            let (workspace, source) = decodeWorkspace(child, position: workspaces.count + 1)
            workspaces.append(workspace)
            map.workspaces.append(source)
        }
        if workspaces.isEmpty {
            error("no-workspaces", "the cluster has no <workspace>; add at least one", at: root.offset)
        }
        return (ClusterDocument(workspaces: workspaces), map)
    }

    // MARK: Workspace

    private mutating func decodeWorkspace(_ element: XMLTree.Element, position: Int) -> (WorkspaceSpec, ClusterSourceMap.Workspace) {
        checkAttributes(of: element, allowed: [])
        rejectText(in: element)
        let parts = children(of: element, allowed: ["active", "name", "image", "quantity", "nic", "ctx", "deploy"])
        let single = singles(parts, names: ["active", "name", "image", "quantity", "ctx"], in: element)

        var source = ClusterSourceMap.Workspace(element: element.offset, name: element.offset)
        var name = "workspace\(position)"
        if let nameElement = single["name"] {
            checkAttributes(of: nameElement, allowed: [])
            source.name = textOffset(nameElement)
            if let text = requiredText(nameElement, what: "the workspace name") {
                name = text
                checkName(text, what: "workspace name", at: source.name)
            }
        } else {
            warning(
                "missing-name",
                "workspace has no <name>; Muster calls it '\(name)' and its nodes '\(name)-0', '\(name)-1', …",
                at: element.offset
            )
        }

        var image = ""
        if let imageElement = single["image"] {
            checkAttributes(of: imageElement, allowed: [])
            image = requiredText(imageElement, what: "the image") ?? ""
        } else {
            error("missing-image", "workspace '\(name)' has no <image>; say which image its nodes boot from", at: element.offset)
        }

        var quantity = 1
        if let quantityElement = single["quantity"] {
            checkAttributes(of: quantityElement, allowed: [])
            quantity = decodeQuantity(quantityElement, workspace: name) ?? 1
        } else {
            error("missing-quantity", "workspace '\(name)' has no <quantity>; say how many nodes to start", at: element.offset)
        }

        var active: Bool?
        if let activeElement = single["active"] {
            checkAttributes(of: activeElement, allowed: [])
            active = decodeBoolean(activeElement.text, at: textOffset(activeElement), what: "<active>")
        }

        let nicElements = parts.filter { $0.name.local == "nic" }
        var nics = nicElements.map { decodeNIC($0) }
        if nics.isEmpty {
            error("missing-nic", "workspace '\(name)' has no <nic>; give each node at least one network, e.g. <nic>public</nic>", at: element.offset)
        }

        var deployments: [DeploySpec] = []
        for deployElement in parts where deployElement.name.local == "deploy" {
            deployments.append(decodeDeploy(deployElement, workspace: name))
        }

        var provides = ProvidesSpec()
        var requires = RequiresSpec()
        var references = InterfaceReferences()
        if let ctx = single["ctx"] {
            checkAttributes(of: ctx, allowed: [])
            rejectText(in: ctx)
            let sections = children(of: ctx, allowed: ["provides", "requires"])
            let ctxSingle = singles(sections, names: ["provides", "requires"], in: ctx)
            if let providesElement = ctxSingle["provides"] {
                provides = decodeProvides(providesElement, references: &references, source: &source)
            }
            if let requiresElement = ctxSingle["requires"] {
                requires = decodeRequires(requiresElement, source: &source)
            }
            if ctxSingle["provides"] == nil && ctxSingle["requires"] == nil {
                error(
                    "empty-ctx",
                    "the <ctx> of workspace '\(name)' has neither <provides> nor <requires>; "
                        + "add <provides><identity/></provides>",
                    at: ctx.offset
                )
            }
        } else {
            error(
                "missing-ctx",
                "workspace '\(name)' has no <ctx>; add at least <ctx><provides><identity/></provides></ctx>",
                at: element.offset
            )
        }

        if nameNICs(&nics, elements: nicElements, references: references, workspace: name) {
            checkDistinctLabels(nics, in: nicElements)
            checkInterfaces(references, labels: Set(nics.map(\.label)))
        }

        let workspace = WorkspaceSpec(
            name: name,
            image: image,
            quantity: quantity,
            nics: nics,
            active: active,
            deployments: deployments,
            provides: provides,
            requires: requires
        )
        return (workspace, source)
    }

    private mutating func decodeQuantity(_ element: XMLTree.Element, workspace: String) -> Int? {
        let text = trimmed(element.text)
        let at = textOffset(element)
        guard !text.isEmpty else {
            error("invalid-quantity", "<quantity> of workspace '\(workspace)' is empty; write a whole number of at least 1", at: at)
            return nil
        }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            error("invalid-quantity", "quantity '\(text)' of workspace '\(workspace)' is not a whole number of at least 1", at: at)
            return nil
        }
        guard let value = Int(text), value <= Self.maximumQuantity else {
            error(
                "quantity-too-large",
                "quantity \(text) of workspace '\(workspace)' is larger than \(Self.maximumQuantity), the most one workspace may start",
                at: at
            )
            return nil
        }
        guard value >= 1 else {
            error("invalid-quantity", "quantity of workspace '\(workspace)' is 0; it must be at least 1", at: at)
            return nil
        }
        return value
    }

    private mutating func decodeNIC(_ element: XMLTree.Element) -> NICSpec {
        checkAttributes(of: element, allowed: ["interface", "_interface", "wantlogin"])
        let network = requiredText(element, what: "the network name of <nic>") ?? ""
        var wantLogin = false
        if let attribute = nimbusAttribute("wantlogin", of: element) {
            wantLogin = decodeBoolean(attribute.value, at: attribute.valueOffset, what: "wantlogin") ?? false
        }
        return NICSpec(network: network, interface: interfaceAttribute(of: element), wantLogin: wantLogin)
    }

    /// Names the NICs as Nimbus's cloud-client does (`ClusterUtil.parseRequest`), diagnosing what it refused.
    ///
    /// - A `<nic>` with an `interface` (or `_interface`) attribute is called that. A name other than `publicnic`
    ///   or `localnic` draws a warning: those are the names agents map addresses to.
    /// - A workspace's only `<nic>`, without one, is `publicnic` when its network name starts with `public`,
    ///   `localnic` when it starts with `private` (ignoring case), and an error otherwise. If the workspace
    ///   provides exactly one identity and that identity names an interface, the NIC takes that name instead;
    ///   several provided identities with one unnamed NIC are an error.
    /// - With several `<nic>`s, each must have an interface attribute.
    ///
    /// - Returns: Whether every NIC has a name, so that references to NIC names can be checked.
    private mutating func nameNICs(
        _ nics: inout [NICSpec],
        elements: [XMLTree.Element],
        references: InterfaceReferences,
        workspace: String
    ) -> Bool {
        if nics.count == 1, nics[0].interface == nil {
            let network = nics[0].network
            guard !network.isEmpty else { return false }
            guard NICSpec.nimbusName(forNetwork: network) != nil else {
                error(
                    "unnamed-nic",
                    "cannot name the NIC of workspace '\(workspace)': network '\(network)' starts with neither 'public' (publicnic) "
                        + "nor 'private' (localnic); add interface=\"publicnic\" or interface=\"localnic\" to the <nic>",
                    at: textOffset(elements[0])
                )
                return false
            }
            if references.identities.count > 1 {
                error(
                    "unnamed-nic",
                    "workspace '\(workspace)' provides \(references.identities.count) identities but has one <nic> without an "
                        + "interface name; give the <nic> interface=\"…\" and each <identity> its <interface>",
                    at: references.identities[1].offset
                )
                return false
            }
            if let identity = references.identities.first, let interface = identity.interface {
                // Nimbus: the NIC takes the name of the workspace's one identity.
                guard checkName(interface, what: "NIC name", at: identity.offset) else { return false }
                warnIfNonstandard(interface, at: identity.offset)
                nics[0].interface = interface
            }
            return true
        }
        var named = true
        for (index, element) in elements.enumerated() {
            guard let interface = nics[index].interface else {
                if !nics[index].network.isEmpty {
                    error(
                        "unnamed-nic",
                        "workspace '\(workspace)' has \(nics.count) NICs, so each needs a name: add interface=\"publicnic\" or "
                            + "interface=\"localnic\" to this <nic>",
                        at: element.offset
                    )
                }
                named = false
                continue
            }
            let offset = (nimbusAttribute("interface", of: element) ?? nimbusAttribute("_interface", of: element))?.valueOffset ?? element.offset
            if checkName(interface, what: "NIC name", at: offset) {
                warnIfNonstandard(interface, at: offset)
            } else {
                named = false
            }
        }
        return named
    }

    private mutating func warnIfNonstandard(_ interface: String, at offset: Int) {
        guard !NICSpec.standardNames.contains(interface) else { return }
        warning(
            "nonstandard-nic-name",
            "NIC name '\(interface)' is neither 'publicnic' nor 'localnic'; agents that discover addresses (on EC2) "
                + "only know those two, and ctx-scripts must be named 2-thishost/\(interface)",
            at: offset
        )
    }

    private mutating func checkDistinctLabels(_ nics: [NICSpec], in elements: [XMLTree.Element]) {
        var seen: Set<String> = []
        for (nic, element) in zip(nics, elements) where !seen.insert(nic.label).inserted {
            error(
                "duplicate-nic",
                "two NICs of this workspace are named '\(nic.label)'; give each an interface=\"…\" name of its own",
                at: element.offset
            )
        }
    }

    private mutating func decodeDeploy(_ element: XMLTree.Element, workspace: String) -> DeploySpec {
        checkAttributes(of: element, allowed: [])
        rejectText(in: element)
        let parts = children(of: element, allowed: ["cloud", "image", "quantity"])
        let single = singles(parts, names: ["cloud", "image", "quantity"], in: element)
        var cloud = ""
        if let cloudElement = single["cloud"] {
            cloud = requiredText(cloudElement, what: "the cloud of <deploy>") ?? ""
        } else {
            error("missing-cloud", "<deploy> has no <cloud>", at: element.offset)
        }
        var quantity = 1
        if let quantityElement = single["quantity"] {
            quantity = decodeQuantity(quantityElement, workspace: workspace) ?? 1
        } else {
            error("missing-quantity", "<deploy> has no <quantity>", at: element.offset)
        }
        let image = single["image"].flatMap { requiredText($0, what: "the image of <deploy>") }
        return DeploySpec(cloud: cloud, image: image, quantity: quantity)
    }

    // MARK: ctx

    private mutating func decodeProvides(
        _ element: XMLTree.Element,
        references: inout InterfaceReferences,
        source: inout ClusterSourceMap.Workspace
    ) -> ProvidesSpec {
        checkAttributes(of: element, allowed: [])
        rejectText(in: element)
        var provides = ProvidesSpec()
        for child in children(of: element, allowed: ["identity", "role"]) {
            switch child.name.local {
            case "identity":
                checkAttributes(of: child, allowed: [])
                rejectText(in: child)
                var interface: String?
                var offset = child.offset
                let parts = children(of: child, allowed: ["interface", "_interface", "ip", "hostname", "pubkey"])
                for part in parts {
                    checkAttributes(of: part, allowed: [])
                    if part.name.local == "interface" || part.name.local == "_interface" {
                        interface = requiredText(part, what: "the interface of <identity>")
                        offset = textOffset(part)
                    }
                }
                references.identities.append((interface, offset))
                provides.identities.append(ProvidedIdentity(interface: interface))
            default:
                checkAttributes(of: child, allowed: ["interface", "_interface"])
                let interface = interfaceAttribute(of: child)
                if let interface, let attribute = nimbusAttribute("interface", of: child) ?? nimbusAttribute("_interface", of: child) {
                    references.roles.append((interface, attribute.valueOffset))
                }
                let name = requiredText(child, what: "the role name") ?? ""
                if !name.isEmpty { checkName(name, what: "role name", at: textOffset(child)) }
                provides.roles.append(ProvidedRole(name: name, interface: interface))
                source.providedRoles.append(textOffset(child))
            }
        }
        return provides
    }

    /// Checks that every NIC name an identity or a role refers to is a NIC of the workspace.
    private mutating func checkInterfaces(_ references: InterfaceReferences, labels: Set<String>) {
        guard !labels.isEmpty else { return }
        var listed: String?
        for reference in references.identities + references.roles {
            guard let interface = reference.interface, !labels.contains(interface) else { continue }
            if listed == nil { listed = labels.sorted().prefix(10).joined(separator: ", ") + (labels.count > 10 ? ", …" : "") }
            let known = listed!
            error("unknown-interface", "interface '\(interface)' is not a NIC of this workspace (NICs: \(known))", at: reference.offset)
        }
    }

    private mutating func decodeRequires(_ element: XMLTree.Element, source: inout ClusterSourceMap.Workspace) -> RequiresSpec {
        checkAttributes(of: element, allowed: [])
        rejectText(in: element)
        var requires = RequiresSpec()
        var dataNames: [String: Int] = [:]
        var roleNames: Set<String> = []
        for child in children(of: element, allowed: ["identity", "role", "data"]) {
            switch child.name.local {
            case "identity":
                checkAttributes(of: child, allowed: [])
                rejectText(in: child)
                for part in children(of: child, allowed: ["ip", "hostname", "pubkey"]) {
                    checkAttributes(of: part, allowed: [])
                }
                requires.allIdentities = true
            case "role":
                checkAttributes(of: child, allowed: ["name", "hostname", "pubkey"], muster: ["wait"])
                rejectText(in: child)
                guard let nameAttribute = nimbusAttribute("name", of: child) else {
                    error("missing-role-name", "<role> in <requires> needs a name=\"…\" attribute naming the role it needs", at: child.offset)
                    continue
                }
                let name = trimmed(nameAttribute.value)
                if name.isEmpty {
                    error("missing-role-name", "the name of a required <role> is empty", at: nameAttribute.valueOffset)
                    continue
                }
                // An unusable name is reported once, not again as a role nobody provides.
                guard checkName(name, what: "role name", at: nameAttribute.valueOffset) else { continue }
                if !roleNames.insert(name).inserted {
                    warning("duplicate-required-role", "role '\(name)' is required twice; the second has no effect", at: child.offset)
                }
                var role = RequiredRole(name: name)
                if let attribute = nimbusAttribute("hostname", of: child) {
                    role.hostname = decodeBoolean(attribute.value, at: attribute.valueOffset, what: "hostname") ?? false
                }
                if let attribute = nimbusAttribute("pubkey", of: child) {
                    role.pubkey = decodeBoolean(attribute.value, at: attribute.valueOffset, what: "pubkey") ?? false
                }
                if let attribute = child.attribute("wait", namespaces: [ClusterNamespace.muster]) {
                    if let wait = WaitCondition(rawValue: trimmed(attribute.value)) {
                        role.wait = wait
                    } else {
                        error(
                            "invalid-wait",
                            "muster:wait is '\(attribute.value)'; expected 'registered' (the default) or 'ready'",
                            at: attribute.valueOffset
                        )
                    }
                }
                requires.roles.append(role)
                source.requiredRoles.append(nameAttribute.valueOffset)
            default:
                checkAttributes(of: child, allowed: ["name"])
                for nested in child.children {
                    error("unexpected-element", "<data> holds text only; put markup in <![CDATA[ … ]]>", at: nested.offset)
                }
                guard let nameAttribute = nimbusAttribute("name", of: child), !trimmed(nameAttribute.value).isEmpty
                else {
                    error("missing-data-name", "<data> needs a name=\"…\" attribute; the agent runs 3-data/<name> with the value", at: child.offset)
                    continue
                }
                let name = trimmed(nameAttribute.value)
                guard checkName(name, what: "data name", at: nameAttribute.valueOffset) else { continue }
                if dataNames[name] != nil {
                    error("duplicate-data", "data '\(name)' is given twice in this workspace", at: child.offset)
                    continue
                }
                dataNames[name] = child.offset
                requires.data.append(DataSpec(name: name, value: child.text))
                source.data.append(child.offset)
            }
        }
        return requires
    }

    // MARK: Generic checks

    /// The children of `element` that are Nimbus elements it may hold, diagnosing every other child.
    private mutating func children(of element: XMLTree.Element, allowed: [String]) -> [XMLTree.Element] {
        var result: [XMLTree.Element] = []
        for child in element.children {
            if child.name.namespace == ClusterNamespace.muster {
                error("unknown-element", "Muster defines no element <\(child.name.qualified)>", at: child.offset)
            } else if !isNimbus(child) {
                warning(
                    "foreign-element",
                    "ignoring <\(child.name.qualified)> in namespace \(child.name.namespace ?? "none"), which Muster does not know",
                    at: child.offset
                )
            } else if allowed.contains(child.name.local) {
                result.append(child)
            } else if let home = Self.homes[child.name.local] {
                error(
                    "misplaced-element",
                    "<\(child.name.local)> is not allowed in <\(element.name.local)>; it belongs in \(home)",
                    at: child.offset
                )
            } else {
                error(
                    "unknown-element",
                    "unknown element <\(child.name.local)> in <\(element.name.local)>; expected \(allowed.sorted().map { "<\($0)>" }.joined(separator: ", "))",
                    at: child.offset
                )
            }
        }
        return result
    }

    /// The first of each element that may appear once, diagnosing repeats.
    private mutating func singles(_ elements: [XMLTree.Element], names: [String], in parent: XMLTree.Element) -> SingleElements {
        var found = SingleElements()
        for element in elements where names.contains(element.name.local) {
            if found[element.name.local] != nil {
                error(
                    "duplicate-element",
                    "<\(element.name.local)> appears more than once in <\(parent.name.local)>; only one is allowed",
                    at: element.offset
                )
            } else {
                found.elements.append(element)
            }
        }
        return found
    }

    private mutating func checkAttributes(of element: XMLTree.Element, allowed: [String], muster: [String] = []) {
        for attribute in element.attributes {
            if attribute.name.namespace == ClusterNamespace.muster {
                if !muster.contains(attribute.name.local) {
                    error(
                        "unknown-attribute",
                        "Muster defines no attribute '\(attribute.name.local)' on <\(element.name.local)>"
                            + (muster.isEmpty ? "" : "; expected \(muster.sorted().map { "muster:\($0)" }.joined(separator: ", "))"),
                        at: attribute.offset
                    )
                }
            } else if ClusterNamespace.isNimbus(attribute.name.namespace) {
                if !allowed.contains(attribute.name.local) {
                    warning(
                        "unknown-attribute",
                        "unknown attribute '\(attribute.name.qualified)' on <\(element.name.local)> is ignored",
                        at: attribute.offset
                    )
                }
            }
            // Attributes in other namespaces belong to other tools: ignored on purpose.
        }
    }

    private mutating func rejectText(in element: XMLTree.Element) {
        if let offset = element.significantTextOffset {
            error("unexpected-text", "<\(element.name.local)> holds elements, not text", at: offset)
        }
    }

    private mutating func requiredText(_ element: XMLTree.Element, what: String) -> String? {
        for nested in element.children {
            error("unexpected-element", "<\(element.name.local)> holds text only, not <\(nested.name.qualified)>", at: nested.offset)
        }
        let text = trimmed(element.text)
        if text.isEmpty {
            error("empty-value", "<\(element.name.local)> is empty; it must give \(what)", at: element.offset)
            return nil
        }
        return text
    }

    private mutating func decodeBoolean(_ raw: String, at offset: Int, what: String) -> Bool? {
        switch trimmed(raw) {
        case "true", "1": return true
        case "false", "0": return false
        default:
            error("invalid-boolean", "\(what) is '\(raw)'; expected true or false", at: offset)
            return nil
        }
    }

    /// Checks a name that agents use as a file or script name against the one rule, ``SafeName``.
    @discardableResult
    private mutating func checkName(_ name: String, what: String, at offset: Int) -> Bool {
        guard let problem = SafeName.problem(in: name) else { return true }
        error("invalid-name", problem.message(for: what), at: offset)
        return false
    }

    private func interfaceAttribute(of element: XMLTree.Element) -> String? {
        let attribute =
            nimbusAttribute("interface", of: element)
            ?? nimbusAttribute("_interface", of: element)
        return attribute.map { trimmed($0.value) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The first attribute with this local name in no namespace or a Nimbus one.
    private func nimbusAttribute(_ local: String, of element: XMLTree.Element) -> XMLTree.Attribute? {
        element.attributes.first { $0.name.local == local && ClusterNamespace.isNimbus($0.name.namespace) }
    }

    private func isNimbus(_ element: XMLTree.Element) -> Bool { ClusterNamespace.isNimbus(element.name.namespace) }

    private func textOffset(_ element: XMLTree.Element) -> Int { element.significantTextOffset ?? element.offset }

    private func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !Self.isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !Self.isSpace($0) })!
        return String(scalars[first...last])
    }

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\n" || scalar == "\t" || scalar == "\r"
    }

    /// Records an error; the message is built only if the error is among those reported.
    private mutating func error(_ code: String, _ message: @autoclosure () -> String, at offset: Int) {
        collector.add(.error, code: code, at: offset, message())
    }

    /// Records a warning; the message is built only if the warning is among those reported.
    private mutating func warning(_ code: String, _ message: @autoclosure () -> String, at offset: Int) {
        collector.add(.warning, code: code, at: offset, message())
    }
}

/// The NIC names a workspace's `<provides>` refers to, with where they are written, checked once the NICs
/// are named.
private struct InterfaceReferences {
    /// One entry per `<identity>`: its `<interface>`, if any, and its offset (the interface's text, or the element).
    var identities: [(interface: String?, offset: Int)] = []
    /// One entry per `<role interface=…>`: the name and the attribute value's offset.
    var roles: [(interface: String?, offset: Int)] = []
}

/// The elements that may appear at most once in a parent, looked up by local name (a handful, so a list beats hashing).
private struct SingleElements {
    var elements: [XMLTree.Element] = []

    subscript(local: String) -> XMLTree.Element? { elements.first { $0.name.local == local } }
}
