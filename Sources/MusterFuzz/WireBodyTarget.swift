import Foundation
import MusterCore

/// Fuzzes the decoding of one JSON request body the broker accepts, with ``MusterCore/WireFormat/decoder()``.
///
/// Invariants: an input either decodes or throws; a decoded body encodes, and its encoding decodes and encodes
/// to the same bytes (the wire form is stable); and `extraCheck` holds for what was decoded (for example:
/// identities that pass ``MusterCore/Identity/validate()`` hold nothing a host file could misread).
public struct WireBodyTarget<Body: Codable & Sendable>: FuzzTarget {
    public let name: String
    public let dictionary = JSONGenerator.dictionary
    private let generator: JSONGenerator
    private let extraCheck: @Sendable (Body) -> [String]

    /// Creates a target for one body type.
    public init(name: String, shape: JSONGenerator.Shape, extraCheck: @escaping @Sendable (Body) -> [String] = { _ in [] }) {
        self.name = name
        self.generator = JSONGenerator(shape)
        self.extraCheck = extraCheck
    }

    public func generate(using random: inout SplitMix64) -> [UInt8] { generator.generate(using: &random) }

    public func check(_ input: [UInt8]) -> FuzzOutcome {
        let body: Body
        do {
            body = try WireFormat.decoder().decode(Body.self, from: Data(input))
        } catch {
            return FuzzOutcome(accepted: false, violations: error is DecodingError ? [] : ["decoding threw \(type(of: error)), not DecodingError"])
        }
        var violations: [String] = []
        do {
            let first = try WireFormat.encoder().encode(body)
            let again = try WireFormat.encoder().encode(try WireFormat.decoder().decode(Body.self, from: first))
            if first != again { violations.append("the encoding of a decoded body does not round-trip") }
        } catch {
            violations.append("a decoded body does not re-encode and decode: \(error)")
        }
        violations += extraCheck(body)
        return FuzzOutcome(accepted: true, violations: violations)
    }
}

extension WireBodyTarget where Body == CheckInRequest {
    /// `POST …/checkin`; every identity that validates must be free of anything a host file could misread.
    public static var checkIn: Self {
        WireBodyTarget(name: "checkin", shape: .checkIn) { request in
            var violations: [String] = []
            for identity in request.identities where identity.isValid {
                let fields = [identity.interface, identity.ip, identity.hostname, identity.pubkey]
                if fields.contains(where: { $0.unicodeScalars.contains { $0.value < 0x20 || $0.value >= 0x7F } }) {
                    violations.append("a valid identity holds a control or non-ASCII character")
                }
                if [identity.interface, identity.ip, identity.hostname].contains(where: { $0.contains(" ") || $0.contains("*") || $0.contains("+") })
                {
                    violations.append("a valid identity's name or address holds a space, '*' or '+'")
                }
                if identity.pubkey.hasPrefix("@") { violations.append("a valid identity's key starts with a marker") }
            }
            return violations
        }
    }
}

extension WireBodyTarget where Body == AddNodesRequest {
    /// `POST …/nodes`; the count is applied to a small context, which must refuse or accept it without trapping.
    public static var addNodes: Self {
        WireBodyTarget(name: "add-nodes", shape: .addNodes) { request in
            // Adding thousands of nodes per input would only slow the run; the limits are what matter here.
            guard request.count <= 16 || request.count > workspaceQuantityLimit else { return [] }
            var engine = ContextEngine()
            let document = ClusterDocument(workspaces: [WorkspaceSpec(name: "w", image: "i", quantity: 1, nics: [NICSpec(network: "public")])])
            let now = Date(timeIntervalSince1970: 0)
            do {
                _ = try engine.apply(.createContext(id: "fuzz", name: "fuzz", document: document), at: now)
                _ = try engine.apply(.addNodes(context: "fuzz", workspace: "w", count: request.count), at: now)
                return request.count >= 1 ? [] : ["a count of \(request.count) was accepted"]
            } catch {
                return request.count >= 1 && request.count <= 16 ? ["a count of \(request.count) was refused: \(error)"] : []
            }
        }
    }
}

/// The most nodes one workspace may have (Nimbus's `xs:short`), past which the engine must refuse a count.
private let workspaceQuantityLimit = 32_767

extension WireBodyTarget where Body == OutputAppendRequest {
    /// `POST …/output`.
    public static var outputAppend: Self { WireBodyTarget(name: "output-append", shape: .outputAppend) }
}

extension WireBodyTarget where Body == ScriptReport {
    /// `POST …/scripts`.
    public static var scriptReport: Self { WireBodyTarget(name: "script-report", shape: .scriptReport) }
}

extension WireBodyTarget where Body == ResultReport {
    /// `POST …/report`.
    public static var resultReport: Self { WireBodyTarget(name: "result-report", shape: .resultReport) }
}
