import Foundation
import Testing

@testable import MusterCore

@Suite("Cluster documents")
struct ClusterDocumentTests {
    @Test(arguments: Fixtures.nimbusDocuments)
    func `every Nimbus fixture parses without errors`(name: String) throws {
        let check = ClusterDocumentParser.parse(try Fixtures.nimbus(name))
        #expect(check.isValid, "\(check.diagnostics.map { $0.formatted(file: name) })")
        #expect(check.diagnostics.filter { $0.severity != .note }.isEmpty, "\(check.diagnostics)")
    }

    @Test func `the fixtures folder holds the Nimbus documents`() {
        #expect(Fixtures.nimbusDocuments.count == 7)
    }

    @Test func `the seed's cluster reads as four workspaces that wait on rabbitmq-head`() throws {
        let document = try ClusterDocumentParser.document(from: try Fixtures.example("cpe/cluster.xml"))
        #expect(document.workspaces.map(\.name) == ["rabbitmq-head", "provisioner", "scheduler", "aggregator"])
        #expect(document.workspaces[0].image == "rabbitMQ.gz")
        #expect(document.workspaces[0].nics == [NICSpec(network: "public", wantLogin: true)])
        #expect(document.workspaces[0].provides.roles == [ProvidedRole(name: "rabbitmq-head")])
        for dependent in document.workspaces.dropFirst() {
            #expect(dependent.requires.allIdentities)
            #expect(dependent.requires.roles == [RequiredRole(name: "rabbitmq-head", hostname: true, pubkey: true)])
        }
    }

    @Test func `base-cluster keeps both data values byte for byte`() throws {
        let document = try ClusterDocumentParser.document(from: try Fixtures.nimbus("base-cluster.xml"))
        let head = try #require(document.workspace(named: "head-node"))
        #expect(head.quantity == 1)
        #expect(document.workspace(named: "compute-nodes")?.quantity == 2)
        #expect(head.provides.roles.map(\.name) == ["torquemaster", "nfsserver"])
        #expect(head.requires.roles.map(\.name) == ["torqueslave", "nfsclient"])
        #expect(head.requires.roles[1].hostname == false)
        #expect(head.requires.data.map(\.name) == ["startcontainer", "gridmap"])
        #expect(head.requires.data[0].value == "yes")
        let gridmap = "\n          \n\"/DC=org/DC=doegrids/OU=People/CN=Timothy Freeman 964650\" jobrun\n\n          "
        #expect(head.requires.data[1].value == gridmap + " ")
    }

    @Test func `hello-cluster keeps markup inside CDATA as text`() throws {
        let document = try ClusterDocumentParser.document(from: try Fixtures.nimbus("hello-cluster.xml"))
        let data = try #require(document.workspace(named: "hello2")?.requires.data.first)
        #expect(data.name == "testdata")
        #expect(data.value == "\nsomething or other 123\ntesting\n<testing>123</testing>\n          ")
    }

    @Test func `ec2basecluster reads _interface labels on NICs, identities and roles`() throws {
        let document = try ClusterDocumentParser.document(from: try Fixtures.nimbus("ec2basecluster.xml"))
        let head = try #require(document.workspace(named: "head-node"))
        #expect(
            head.nics == [NICSpec(network: "public", interface: "publicnic", wantLogin: true), NICSpec(network: "private", interface: "localnic")]
        )
        #expect(head.provides.identities == [ProvidedIdentity(interface: "publicnic"), ProvidedIdentity(interface: "localnic")])
        #expect(
            head.provides.roles == [
                ProvidedRole(name: "torquemaster", interface: "localnic"), ProvidedRole(name: "nfsserver", interface: "localnic"),
            ]
        )
        #expect(head.requires.data.map(\.name) == ["gridmap", "ssh"])
        #expect(document.workspace(named: "compute-nodes")?.nics.map(\.label) == ["localnic"])
    }

    @Test func `a workspace may require a role it provides itself`() throws {
        let document = try ClusterDocumentParser.document(from: try Fixtures.nimbus("uc.hadoop-cluster-001-masterslave.xml"))
        let head = try #require(document.workspace(named: "headwork-node"))
        #expect(head.requires.roles.map(\.name).contains("hadoopmaster"))
        #expect(head.provides.roles.map(\.name).contains("hadoopmaster"))
    }

    @Test func `documents without a namespace and in the ctxdescription namespace read the same`() throws {
        let body = workspace("a", provides: "<identity/><role>r</role>") + workspace("b", requires: "<role name=\"r\"/>")
        let plain = try parseValid("<cluster>\(body)</cluster>")
        let described = try parseValid("<cluster xmlns=\"\(ClusterNamespace.ctxDescription)\">\(body)</cluster>")
        let logistics = try parseValid("<cluster xmlns=\"\(ClusterNamespace.logistics)\">\(body)</cluster>")
        #expect(plain == described)
        #expect(plain == logistics)
    }

    @Test func `reads active, deploy and nic interface attributes`() throws {
        let document = try parseValid(
            cluster(
                """
                <workspace><active>true</active><name>w</name><image>i</image><quantity>2</quantity>
                <nic interface="eth0" wantlogin="1">public</nic><nic interface="eth1">private</nic>
                <ctx><provides><identity><interface>eth0</interface></identity></provides></ctx>
                <deploy><cloud>east</cloud><image>ami-1</image><quantity>2</quantity></deploy></workspace>
                """
            )
        )
        let w = document.workspaces[0]
        #expect(w.active == true)
        #expect(w.nics.map(\.label) == ["eth0", "eth1"])
        #expect(w.nics[0].wantLogin)
        #expect(w.deployments == [DeploySpec(cloud: "east", image: "ami-1", quantity: 2)])
        #expect(w.provides.identities == [ProvidedIdentity(interface: "eth0")])
    }

    @Test func `muster wait ready is read from the Muster namespace`() throws {
        let document = try parseValid(
            cluster(
                workspace("db", provides: "<identity/><role>db</role>"),
                workspace("app", requires: "<role name=\"db\" muster:wait=\"ready\"/>"),
                namespaces: " xmlns:muster=\"\(ClusterNamespace.muster)\""
            )
        )
        #expect(document.workspaces[1].requires.roles == [RequiredRole(name: "db", wait: .ready)])
    }

    @Test func `attributes of other tools' namespaces are ignored without a word`() throws {
        let check = ClusterDocumentParser.parse(
            Array(
                cluster(
                    workspace("a", provides: "<identity/><role x:y=\"1\">r</role>"),
                    namespaces: " xmlns:x=\"urn:other-tool\""
                ).utf8
            )
        )
        #expect(check.isValid)
        #expect(check.diagnostics.isEmpty)
    }

    @Test func `a missing name gets a default and a warning`() throws {
        let check = ClusterDocumentParser.parse(
            Array(
                cluster("<workspace><image>i</image><quantity>1</quantity><nic>public</nic><ctx><provides><identity/></provides></ctx></workspace>")
                    .utf8
            )
        )
        #expect(check.document?.workspaces[0].name == "workspace1")
        #expect(check.diagnostics.map(\.code) == ["missing-name"])
        #expect(check.diagnostics.first?.severity == .warning)
    }
}
