/// The XML namespaces a cluster document may use.
public enum ClusterNamespace {
    /// The namespace of Nimbus cloud-client cluster documents (2008).
    public static let logistics = "http://www.globus.org/2008/06/workspace/metadata/logistics"
    /// The namespace of the later Nimbus context description schema.
    public static let ctxDescription = "http://www.globus.org/2008/12/nimbus/ctxdescription"
    /// Muster's own namespace, for its extension attributes (for example `muster:wait="ready"`).
    ///
    /// Nimbus tools ignore attributes in namespaces they do not know, so a document that uses them stays
    /// valid for Nimbus.
    public static let muster = "urn:muster:cluster:1"

    /// The namespaces (and no namespace) that Nimbus elements may be in.
    public static let nimbus: Set<String?> = [nil, logistics, ctxDescription]

    /// Whether `namespace` is one Nimbus elements may be in (one of ``nimbus``), without hashing the URI.
    public static func isNimbus(_ namespace: String?) -> Bool {
        guard let namespace else { return true }
        return namespace == logistics || namespace == ctxDescription
    }
}
