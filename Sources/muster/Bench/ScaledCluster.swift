import MusterCore

/// The seed's topology at any size: one `rabbitmq-head`, the other nodes split over provisioner, scheduler and
/// aggregator, every one of them requiring the head (and, with `allIdentities`, every node's identity).
enum ScaledCluster {
    /// The cluster document for `nodes` nodes in four workspaces.
    static func document(nodes: Int, allIdentities: Bool = false, image: String = "ooi-base") -> String {
        let rest = max(0, nodes - 1)
        let split = [rest / 3 + (rest % 3 > 0 ? 1 : 0), rest / 3 + (rest % 3 > 1 ? 1 : 0), rest / 3]
        var xml = "<cluster xmlns=\"http://www.globus.org/2008/06/workspace/metadata/logistics\">\n"
        xml += workspace("rabbitmq-head", quantity: 1, image: image, requires: "")
        let requires = (allIdentities ? "<identity/>" : "") + "<role name=\"rabbitmq-head\" hostname=\"true\" pubkey=\"true\"/>"
        for (name, quantity) in zip(["provisioner", "scheduler", "aggregator"], split) where quantity > 0 {
            xml += workspace(name, quantity: quantity, image: image, requires: requires)
        }
        return xml + "</cluster>\n"
    }

    private static func workspace(_ name: String, quantity: Int, image: String, requires: String) -> String {
        let provides = name == "rabbitmq-head" ? "<identity/><role>rabbitmq-head</role>" : "<identity/>"
        return """
              <workspace><name>\(name)</name><image>\(image)</image><quantity>\(quantity)</quantity><nic wantlogin="true">public</nic>
                <ctx><provides>\(provides)</provides>\(requires.isEmpty ? "" : "<requires>\(requires)</requires>")</ctx></workspace>

            """
    }

    /// A document with `count` workspaces of one node each (the parse benchmark): every workspace provides a role
    /// and requires the first one, with a data value, so that validation has real work.
    static func manyWorkspaces(_ count: Int) -> String {
        var xml = "<cluster xmlns=\"http://www.globus.org/2008/06/workspace/metadata/logistics\">\n"
        xml.reserveCapacity(count * 400)
        for index in 0..<count {
            xml += """
                  <workspace>
                    <name>ws\(index)</name>
                    <image>image-\(index % 7).gz</image>
                    <quantity>1</quantity>
                    <nic wantlogin="true">public</nic>
                    <ctx>
                      <provides><identity/><role>role\(index)</role></provides>
                      <requires><identity/><role name="role0" hostname="true" pubkey="true"/><data name="d"><![CDATA[value \(index)]]></data></requires>
                    </ctx>
                  </workspace>

                """
        }
        return xml + "</cluster>\n"
    }

    /// `pairs` independent provider/requirer pairs (the one-to-one release probe): `probe-requirer-i` requires
    /// the role that only `probe-provider-i` provides.
    static func probePairs(_ pairs: Int) -> String {
        var xml = "<cluster xmlns=\"http://www.globus.org/2008/06/workspace/metadata/logistics\">\n"
        for index in 0..<pairs {
            xml += """
                  <workspace><name>probe-provider-\(index)</name><image>ooi-base</image><quantity>1</quantity><nic>public</nic>
                    <ctx><provides><identity/><role>probe-\(index)</role></provides></ctx></workspace>
                  <workspace><name>probe-requirer-\(index)</name><image>ooi-base</image><quantity>1</quantity><nic>public</nic>
                    <ctx><provides><identity/></provides><requires><role name="probe-\(index)"/></requires></ctx></workspace>

                """
        }
        return xml + "</cluster>\n"
    }

    /// The identity virtual node `node` checks in with: the `index`-th address of 10.0.0.0/8, a host name under
    /// `bench.muster.local`, and a made-up (but well-formed) Ed25519 key.
    static func identity(_ node: String, _ index: Int) -> Identity {
        let key = (0..<32).map { UInt8(truncatingIfNeeded: (index >> (($0 % 4) * 8)) ^ $0) }
        return Identity(
            interface: NICSpec.publicName,
            ip: "10.\(index / 65_536).\(index / 256 % 256).\(index % 256)",
            hostname: "\(node).bench.muster.local",
            pubkey: SSHPublicKey(ed25519: key, comment: "root@\(node)").line
        )
    }
}
