import Foundation
import Testing

@testable import MusterCore

/// NIC names follow Nimbus's cloud-client (`ClusterUtil.parseRequest`).
@Suite("Nimbus NIC names")
struct NICNamingTests {
    private func nics(_ nics: String, provides: String = "<identity/>") -> [Diagnostic] {
        diagnose(cluster(workspace("w", nics: nics, provides: provides)))
    }

    private func names(_ nics: String, provides: String = "<identity/>") throws -> [String] {
        try parseValid(cluster(workspace("w", nics: nics, provides: provides))).workspaces[0].nics.map(\.label)
    }

    @Test(arguments: [
        ("public", "publicnic"), ("Public", "publicnic"), ("public-net", "publicnic"), ("  PUBLIC2 ", "publicnic"), ("private", "localnic"),
        ("private-10", "localnic"), ("PRIVATE", "localnic"),
    ])
    func `a single unnamed NIC is named after its network's prefix`(network: String, name: String) throws {
        #expect(try names("<nic>\(network)</nic>") == [name])
    }

    @Test(arguments: ["internal", "pub", "n", "lan-private"])
    func `a single unnamed NIC on another network is an error at the network name`(network: String) throws {
        let diagnostics = nics("<nic>\(network)</nic>")
        #expect(diagnostics.map(\.code) == ["unnamed-nic"])
        #expect(diagnostics[0].message.contains("'\(network)'"))
        #expect(diagnostics[0].location == SourcePosition(line: 2, column: 73))
    }

    @Test(arguments: ["interface", "_interface"])
    func `an interface attribute names the NIC`(attribute: String) throws {
        #expect(try names("<nic \(attribute)=\"localnic\">public</nic>") == ["localnic"])
        #expect(try names("<nic \(attribute)=\"publicnic\">private</nic><nic \(attribute)=\"localnic\">private</nic>") == ["publicnic", "localnic"])
    }

    @Test func `a named NIC on any network needs no prefix`() throws {
        #expect(try names("<nic interface=\"publicnic\">internal</nic>") == ["publicnic"])
    }

    @Test func `a name other than publicnic or localnic is a warning, not an error`() throws {
        let check = ClusterDocumentParser.parse(Array(cluster(workspace("w", nics: "<nic interface=\"eth0\">public</nic>")).utf8))
        #expect(check.isValid)
        #expect(check.diagnostics.map(\.code) == ["nonstandard-nic-name"])
        #expect(check.diagnostics[0].severity == .warning)
        #expect(check.document?.workspaces[0].nics.map(\.label) == ["eth0"])
    }

    @Test func `two unnamed NICs are an error at each NIC's line`() throws {
        let xml = [
            "<cluster>",
            "  <workspace><name>w</name><image>i</image><quantity>1</quantity>",
            "    <nic>public</nic>",  // 3
            "    <nic>private</nic>",  // 4
            "    <ctx><provides><identity/></provides></ctx></workspace>",
            "</cluster>",
        ].joined(separator: "\n")
        let diagnostics = diagnose(xml)
        #expect(diagnostics.map(\.code) == ["unnamed-nic", "unnamed-nic"])
        #expect(diagnostics.map(\.location) == [SourcePosition(line: 3, column: 5), SourcePosition(line: 4, column: 5)])
        #expect(diagnostics[0].message.contains("has 2 NICs"))
    }

    @Test func `with several NICs only the unnamed one is an error`() throws {
        let diagnostics = nics("<nic interface=\"publicnic\">public</nic><nic>private</nic>")
        #expect(diagnostics.map(\.code) == ["unnamed-nic"])
    }

    @Test func `the only provided identity may name a single unnamed NIC, as in Nimbus`() throws {
        #expect(try names("<nic>private</nic>", provides: "<identity><interface>localnic</interface></identity>") == ["localnic"])
        #expect(try names("<nic>public</nic>", provides: "<identity><interface>localnic</interface></identity>") == ["localnic"])
    }

    @Test func `several identities with one unnamed NIC are an error`() throws {
        let diagnostics = nics("<nic>public</nic>", provides: "<identity/><identity/>")
        #expect(diagnostics.map(\.code) == ["unnamed-nic"])
    }

    @Test func `roles and identities refer to NICs by their Nimbus name`() throws {
        let document = try parseValid(
            cluster(workspace("w", nics: "<nic>private</nic>", provides: "<identity/><role interface=\"localnic\">r</role>"))
        )
        #expect(document.workspaces[0].provides.roles == [ProvidedRole(name: "r", interface: "localnic")])
        let diagnostics = nics("<nic>private</nic>", provides: "<identity/><role interface=\"private\">r</role>")
        #expect(diagnostics.map(\.code) == ["unknown-interface"])
        #expect(diagnostics[0].message.contains("NICs: localnic"))
    }

    @Test func `two NICs with the same name are an error`() throws {
        #expect(nics("<nic interface=\"publicnic\">public</nic><nic _interface=\"publicnic\">private</nic>").map(\.code) == ["duplicate-nic"])
    }

    @Test func `a NIC name must be a safe name`() throws {
        let diagnostics = nics("<nic interface=\"a/b\">public</nic>")
        #expect(diagnostics.map(\.code) == ["invalid-name"])
        #expect(diagnostics[0].message.hasPrefix("NIC name 'a/b' contains '/'"))
        #expect(diagnostics[0].location == SourcePosition(line: 2, column: 84))
    }

    @Test(arguments: Fixtures.nimbusDocuments)
    func `the Nimbus samples get Nimbus NIC names`(name: String) throws {
        let document = try ClusterDocumentParser.document(from: try Fixtures.nimbus(name))
        for workspace in document.workspaces {
            #expect(workspace.nics.allSatisfy { NICSpec.standardNames.contains($0.label) }, "\(workspace.nics)")
        }
        if name == "ec2basecluster.xml" {
            #expect(document.workspace(named: "head-node")?.nics.map(\.label) == ["publicnic", "localnic"])
        } else {
            #expect(document.workspaces.allSatisfy { $0.nics.map(\.label) == ["publicnic"] })
        }
    }

    @Test func `a NIC's JSON carries its name`() throws {
        let json = String(decoding: try WireFormat.encoder().encode(NICSpec(network: "public")), as: UTF8.self)
        #expect(json == #"{"name":"publicnic","network":"public","wantLogin":false}"#)
        #expect(try WireFormat.decoder().decode(NICSpec.self, from: Data(json.utf8)) == NICSpec(network: "public"))
    }
}
