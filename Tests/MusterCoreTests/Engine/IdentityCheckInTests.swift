import Foundation
import Testing

@testable import MusterCore

/// What a node reports about itself ends up in other nodes' host files, so each field is checked at check-in.
@Suite("Identities validated at check-in")
struct IdentityCheckInTests {
    static let document = cluster(workspace("head", provides: "<identity/><role>m</role>"), workspace("w", requires: "<identity/>"))

    private static func good(_ interface: String = "publicnic") -> Identity {
        Identity(interface: interface, ip: "10.0.0.7", hostname: "head-0.ctx.muster.local", pubkey: TestKeys.ed25519(7, comment: "root@head-0"))
    }

    private static func with(_ change: (inout Identity) -> Void) -> Identity {
        var identity = good()
        change(&identity)
        return identity
    }

    static let injections: [(Identity, IdentityError.Field)] = [
        (with { $0.hostname = "+" }, .hostname),
        (with { $0.hostname = "*" }, .hostname),
        (with { $0.hostname = "*.muster.local" }, .hostname),
        (with { $0.hostname = "head-0\n10.6.6.6 evil" }, .hostname),
        (with { $0.hostname = "head-0\u{0}" }, .hostname),
        (with { $0.hostname = "head-0 evil" }, .hostname),
        (with { $0.hostname = "" }, .hostname),
        (with { $0.ip = "10.0.0.7\n10.6.6.6 evil" }, .ip),
        (with { $0.ip = "10.0.0.7 evil" }, .ip),
        (with { $0.ip = "+" }, .ip),
        (with { $0.ip = "fe80::1%eth0" }, .ip),
        (with { $0.ip = "" }, .ip),
        (with { $0.pubkey = "@cert-authority * ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIItBoDFw6BjI1MUuLYx6uoEQo2WRYdriY2OLo91RXEZt" }, .pubkey),
        (with { $0.pubkey = "@revoked * ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIItBoDFw6BjI1MUuLYx6uoEQo2WRYdriY2OLo91RXEZt" }, .pubkey),
        (with { $0.pubkey = TestKeys.ed25519(1) + "\n@cert-authority * " + TestKeys.ed25519(2) }, .pubkey),
        (with { $0.pubkey = TestKeys.ed25519(1) + "\u{0}" }, .pubkey),
        (with { $0.pubkey = "ssh-ed25519 AAAA" }, .pubkey),
        (with { $0.pubkey = "key-a" }, .pubkey),
        (with { $0.interface = "../publicnic" }, .interface),
    ]

    @Test(arguments: injections)
    func `an identity that could inject into host files is refused naming the NIC and the field`(
        identity: Identity,
        field: IdentityError.Field
    ) throws {
        #expect(throws: IdentityError.self) { try identity.validate() }
        do {
            try identity.validate()
        } catch {
            #expect(error.field == field)
            #expect(error.code == "invalid-\(field.rawValue)")
        }
        var driver = try EngineDriver(xml: Self.document)
        try driver.apply(.launch(context: driver.context, node: "head-0"))
        let before = try driver.node("head-0")
        do {
            try driver.apply(.checkIn(context: driver.context, node: "head-0", identities: [identity]))
            Issue.record("the check-in was accepted")
        } catch let error as EngineError {
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("NIC '"))
            #expect(error.message.contains(field.title))
            #expect(!error.message.contains("\n") && !error.message.contains("\u{0}"))
        }
        #expect(try driver.node("head-0") == before)
    }

    @Test func `the message names the NIC and the field`() throws {
        let error = try #require(throws: IdentityError.self) { try Self.with { $0.hostname = "+" }.validate() }
        #expect(error.message.hasPrefix("the identity of NIC 'publicnic' has an invalid host name: '+' contains '+'"))
    }

    @Test(arguments: TestKeys.generated)
    func `an identity with any real host key is accepted`(key: String) throws {
        var driver = try EngineDriver(xml: Self.document)
        let identity = Self.with { $0.pubkey = key }
        try identity.validate()
        try driver.apply(.checkIn(context: driver.context, node: "head-0", identities: [identity]))
        #expect(try driver.node("head-0").identities == [identity])
    }

    @Test(arguments: ["10.0.0.7", "2001:db8::7", "::ffff:10.0.0.7"])
    func `IPv4 and IPv6 addresses are accepted`(ip: String) throws {
        #expect(Self.with { $0.ip = ip }.isValid)
    }

    @Test func `more identities than NICs are refused before any is looked at`() throws {
        var driver = try EngineDriver(xml: Self.document)
        let many = Array(repeating: Self.good(), count: 1_000)
        #expect(throws: EngineError.self) { try driver.apply(.checkIn(context: driver.context, node: "head-0", identities: many)) }
    }
}
