import Foundation
import MusterFuzz
import Testing

@testable import MusterCore

/// The agents' bodies read without `JSONDecoder` mean exactly what `JSONDecoder` reads from them: every body the
/// reader accepts, `JSONDecoder` decodes to the same value; plain bodies, whatever their spacing, key order, unknown
/// keys and escapes, are accepted.
@Suite("Wire JSON reader")
struct WireJSONReaderTests {
    typealias Random = SplitMix64

    /// `value` as the wire writes it, to compare values whose dates went through text.
    static func wire(_ value: some Encodable) throws -> String {
        String(decoding: try WireFormat.encoder().encode(value), as: UTF8.self)
    }

    /// What `JSONDecoder` makes of `bytes`, written again; `nil` if it refuses them.
    static func foundation<T: Codable>(_ type: T.Type, _ bytes: [UInt8]) -> String? {
        (try? WireFormat.decoder().decode(T.self, from: Data(bytes))).flatMap { try? wire($0) }
    }

    static func string(_ random: inout Random) -> String {
        WireJSONWriterTests.string(&random, length: 16)
    }

    static func time(_ random: inout Random) -> Date {
        // Milliseconds, as agents send them.
        Date(timeIntervalSince1970: (Double.random(in: 1e9...2e9, using: &random) * 1000).rounded() / 1000)
    }

    static func lines(_ random: inout Random) -> [OutputLine] {
        (0..<Int.random(in: 0...4, using: &random)).map { index in
            OutputLine(
                index: index + Int.random(in: 0...1_000, using: &random),
                time: time(&random),
                phase: Int.random(in: 0...9, using: &random),
                script: string(&random),
                stream: [.stdout, .stderr, .agent].randomElement(using: &random)!,
                text: string(&random)
            )
        }
    }

    /// Plain bodies of every kind, as agents (and other clients) write them.
    static func bodies(_ random: inout Random) throws -> [(kind: String, bytes: [UInt8])] {
        let identity = Identity(interface: string(&random), ip: "10.0.0.1", hostname: string(&random), pubkey: string(&random))
        let scripts = (0..<Int.random(in: 0...3, using: &random)).map { _ in
            ScriptReport(
                script: ScriptRef(phase: Int.random(in: 0...9, using: &random), script: string(&random), arguments: [string(&random)]),
                exitCode: Bool.random(using: &random) ? Int.random(in: -300...300, using: &random) : nil
            )
        }
        let reports = [
            ResultReport(.ok, lines: lines(&random), scripts: scripts),
            ResultReport(.error(code: Int.random(in: -300...300, using: &random), message: string(&random)), lines: lines(&random)),
            ResultReport(ok: true),
        ]
        var bodies: [(String, [UInt8])] = [
            ("check-in", Array(try WireFormat.encoder().encode(CheckInRequest(identities: [identity, identity])))),
            ("check-in", Array(try WireFormat.encoder().encode(CheckInRequest(identities: [])))),
            ("output", Array(try WireFormat.encoder().encode(OutputAppendRequest(lines: lines(&random))))),
        ]
        bodies += try reports.map { ("report", Array(try WireFormat.encoder().encode($0))) }
        // The same with blanks, escaped slashes and non-ASCII as \u escapes, unknown keys and explicit nulls, as
        // other encoders write them.
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.prettyPrinted]
        pretty.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(WireFormat.timestamp(date))
        }
        bodies += try reports.map { ("report", Array(try pretty.encode($0))) }
        bodies.append(
            (
                "report",
                Array(
                    #"{"ok" : false , "code" : null, "message":"caf\u00e9 \/ \ud83d\ude00", "extra": {"a": [1, -2, true, null, "x"]}, "lines": null}"#
                        .utf8
                )
            )
        )
        bodies.append(
            ("check-in", Array(#" {"identities": [{"pubkey": "k", "hostname": "h", "ip": "1.2.3.4", "interface": "eth0", "v": 2}]} "#.utf8))
        )
        return bodies
    }

    /// The reader's value for `bytes`, written again; `nil` if it left them to `JSONDecoder`.
    static func fast(_ kind: String, _ bytes: [UInt8]) -> String? {
        switch kind {
        case "check-in": CheckInRequest.wireDecoded(from: bytes).flatMap { try? wire($0) }
        case "output": OutputAppendRequest.wireDecoded(from: bytes).flatMap { try? wire($0) }
        default: ResultReport.wireDecoded(from: bytes).flatMap { try? wire($0) }
        }
    }

    static func foundation(_ kind: String, _ bytes: [UInt8]) -> String? {
        switch kind {
        case "check-in": foundation(CheckInRequest.self, bytes)
        case "output": foundation(OutputAppendRequest.self, bytes)
        default: foundation(ResultReport.self, bytes)
        }
    }

    @Test(arguments: 0..<30)
    func `plain bodies are read, to what JSONDecoder reads`(seed: UInt64) throws {
        var random = Random(seed: seed)
        for (kind, bytes) in try Self.bodies(&random) {
            let fast = Self.fast(kind, bytes)
            #expect(fast != nil, "seed \(seed): \(String(decoding: bytes, as: UTF8.self))")
            #expect(fast == Self.foundation(kind, bytes), "seed \(seed): \(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func `whatever a mutated body holds, what the reader accepts JSONDecoder reads the same`() throws {
        var random = Random(seed: 15)
        let mutator = ByteMutator(dictionary: [
            "null", "true", "false", "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u0000", "\\ud83d", "\\n", "1.0", "1e3", "-0", "00",
            "9223372036854775808", "\"ok\"", "\"lines\"", "\"time\"", "2026-02-30T00:00:00Z", "2026-01-01T00:00:00+01:00", "Z", " ", "\u{FEFF}",
        ])
        var seeds: [(String, [UInt8])] = []
        for _ in 0..<10 { seeds += try Self.bodies(&random) }
        var accepted = 0
        for round in 0..<20_000 {
            let (kind, original) = seeds[round % seeds.count]
            let mutated = mutator.mutate(original, others: seeds.map(\.1), using: &random)
            guard let fast = Self.fast(kind, mutated) else { continue }
            accepted += 1
            let expected = Self.foundation(kind, mutated)
            #expect(fast == expected, "\(String(decoding: mutated, as: UTF8.self))")
            if fast != expected { break }
        }
        #expect(accepted > 200, "some mutated bodies are still plain (443 of 20,000 with this seed)")
    }

    @Test(arguments: [
        #"{"ok": true, "ok": false}"#, #"{"ok": 1}"#, #"{"ok": true, "code": 1.0}"#, #"{"ok": true, "code": 1e2}"#, #"{"ok": true,}"#,
        #"{"ok": true} x"#, #"{"ok": true, "message": "\x"}"#, #"{"ok": true, "message": "\udc00"}"#, #"{"ok": true, "code": 01}"#,
        #"{"ok": true, "lines": [{"index": 0, "time": "2026-01-01T00:00:00+00:00", "phase": 5, "script": "s", "stream": "stdout", "text": "t"}]}"#,
        #"{"ok": true, "lines": [{"index": 0, "time": "2026-02-29T00:00:00.000Z", "phase": 5, "script": "s", "stream": "stdout", "text": "t"}]}"#,
        #"{"ok": true, "lines": [{"index": 0, "time": "2026-01-01T00:00:00.000Z", "phase": 5, "script": "s", "stream": "tty", "text": "t"}]}"#,
        "\u{FEFF}{\"ok\": true}", #"{"ok": null}"#, "",
    ])
    func `bodies the reader is not sure of are left to JSONDecoder`(body: String) {
        #expect(ResultReport.wireDecoded(from: Array(body.utf8)) == nil)
    }
}
