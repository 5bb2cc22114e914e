import Foundation
import MusterCore
import Testing

@testable import MusterBroker

/// The answer encoder's spliced bodies are byte for byte what encoding the whole answer gives.
@Suite("Answer encoding")
struct AnswerEncoderTests {
    static func identities(_ count: Int, suffix: String = "") -> [NodeIdentities] {
        (0..<count).map { index in
            NodeIdentities(
                node: "node-\(index)\(suffix)",
                identities: [
                    Identity(interface: "publicnic", ip: "10.0.0.\(index % 250)", hostname: "n\(index).example", pubkey: TestBroker.key(index))
                ]
            )
        }
    }

    static func response(_ identities: [NodeIdentities], version: Int = 1) -> AnswerResponse {
        let head = Identity(interface: "publicnic", ip: "10.0.0.1", hostname: "head.example", pubkey: TestBroker.key(-1))
        return AnswerResponse(
            released: true,
            state: .configuring,
            requirements: [],
            answer: NodeAnswer(
                version: version,
                identities: identities,
                roles: [RoleAnswer(role: "head", hostname: true, pubkey: true, providers: [.init(node: "head-0", identity: head)])],
                data: [DataSpec(name: "secret", value: "<b>\"quoted\" & [brackets]</b>")]
            )
        )
    }

    static func plain(_ response: AnswerResponse) throws -> [UInt8] { Array(try WireFormat.encoder().encode(response)) }

    @Test func `a long identity list is spliced in exactly as a whole encoding writes it, from the cache too`() throws {
        let encoder = AnswerEncoder()
        let context = ContextID("ctx-1")
        let list = Self.identities(AnswerEncoder.minimumCachedCount + 10)
        for version in 1...3 {
            let response = Self.response(list, version: version)
            #expect(try encoder.encode(response, context: context) == Self.plain(response))
        }
        let decoded = try WireFormat.decoder().decode(AnswerResponse.self, from: Data(try encoder.encode(Self.response(list), context: context)))
        #expect(decoded == Self.response(list))
    }

    @Test func `a changed list is not served from the cache`() throws {
        let encoder = AnswerEncoder()
        let context = ContextID("ctx-1")
        let before = Self.identities(40)
        _ = try encoder.encode(Self.response(before), context: context)
        var after = before
        after[7] = NodeIdentities(
            node: "node-7",
            identities: [Identity(interface: "publicnic", ip: "10.9.9.9", hostname: "moved.example", pubkey: TestBroker.key(7_777))]
        )
        #expect(try encoder.encode(Self.response(after), context: context) == Self.plain(Self.response(after)))
        let grown = Self.identities(41)
        #expect(try encoder.encode(Self.response(grown), context: context) == Self.plain(Self.response(grown)))
        let other = ContextID("ctx-2")
        let otherList = Self.identities(40, suffix: "-b")
        #expect(try encoder.encode(Self.response(otherList), context: other) == Self.plain(Self.response(otherList)))
        #expect(try encoder.encode(Self.response(grown), context: context) == Self.plain(Self.response(grown)))
    }

    @Test func `short lists and unreleased nodes are encoded whole`() throws {
        let encoder = AnswerEncoder()
        let short = Self.response(Self.identities(3))
        #expect(try encoder.encode(short, context: ContextID("c")) == Self.plain(short))
        let waiting = AnswerResponse(released: false, state: .registered, requirements: [], answer: nil)
        #expect(try encoder.encode(waiting, context: ContextID("c")) == Self.plain(waiting))
    }
}
