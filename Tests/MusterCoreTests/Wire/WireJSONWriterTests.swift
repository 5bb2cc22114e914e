import Foundation
import MusterFuzz
import Testing

@testable import MusterCore

/// The hand-written JSON of the hot paths is byte for byte what `JSONEncoder` writes (events), or decodes to the
/// same value (stored commands): checked on every kind, on edge values, and on random ones.
@Suite("Wire JSON writer")
struct WireJSONWriterTests {
    /// What `JSONEncoder` configured for the wire writes.
    static func foundation(_ value: some Encodable) throws -> String {
        String(decoding: try WireFormat.encoder().encode(value), as: UTF8.self)
    }

    /// A deterministic generator, so that a failure names a seed that reproduces it.
    typealias Random = SplitMix64

    /// A string of `length` characters drawn from the ones escaping treats differently.
    static func string(_ random: inout Random, length: Int = 12) -> String {
        let pool: [Unicode.Scalar] =
            (0..<0x20).map { Unicode.Scalar(UInt8($0)) } + ["\"", "\\", "/", "a", "Z", " ", "\u{7F}", "é", "€", "😀", "\u{2028}", "-", "0"]
        var text = ""
        for _ in 0..<Int.random(in: 0...length, using: &random) { text.unicodeScalars.append(pool.randomElement(using: &random)!) }
        return text
    }

    @Test func `strings are escaped as JSONEncoder escapes them`() throws {
        var every = ""
        for byte in 0..<0x20 { every.unicodeScalars.append(Unicode.Scalar(UInt8(byte))) }
        every += "\"\\/\u{7F}é€😀\u{2028}"
        var random = Random(seed: 1)
        for text in ["", "plain", every, "a/b", "ends with \\"] + (0..<500).map({ _ in Self.string(&random, length: 30) }) {
            var json = WireJSONWriter()
            json.beginArray()
            json.string(text)
            json.endArray()
            #expect(String(decoding: json.bytes, as: UTF8.self) == (try Self.foundation([text])), "\(text.debugDescription)")
        }
    }

    @Test func `numbers are written as JSONEncoder writes them, and a NaN is refused`() throws {
        var doubles: [Double] = [
            0, -0.0, 0.1, 3, -3, 1e20, 1e21, 1e-7, 123_456_789.125, 2.5e-5, 1e16, 12_345_678_901_234_568, .leastNonzeroMagnitude,
            .greatestFiniteMagnitude, 0.001, 100, 1.5, 0.123,
        ]
        var random = Random(seed: 2)
        for _ in 0..<2_000 {
            let value = Double(bitPattern: random.next())
            if value.isFinite { doubles.append(value) }
            doubles.append(Double.random(in: -1e6...1e6, using: &random))
        }
        for value in doubles {
            var json = WireJSONWriter()
            json.beginArray()
            let written = json.double(value)
            #expect(written)
            json.endArray()
            #expect(String(decoding: json.bytes, as: UTF8.self) == (try Self.foundation([value])), "\(value)")
        }
        var json = WireJSONWriter()
        let nan = json.double(.nan)
        let infinity = json.double(.infinity)
        #expect(!nan && !infinity && json.bytes.isEmpty)
        for value in [0, 7, -7, Int.max, Int.min, 1_000_000] {
            var json = WireJSONWriter()
            json.beginArray()
            json.int(value)
            json.endArray()
            #expect(String(decoding: json.bytes, as: UTF8.self) == (try Self.foundation([value])))
        }
    }

    @Test func `dates are written as the wire writes them, rounded to the millisecond`() throws {
        var dates: [Date] = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1), Date(timeIntervalSince1970: -0.0004),
            Date(timeIntervalSince1970: 951_782_400),  // 2000-02-29
            Date(timeIntervalSince1970: 1_796_320_764.9995), Date(timeIntervalSince1970: 1_796_320_764.1235),
            Date(timeIntervalSinceReferenceDate: 0), Date(timeIntervalSince1970: -12_212_553_600),  // 1583-01-01
            Date(timeIntervalSince1970: 253_402_300_799.999),  // 9999-12-31T23:59:59.999
        ]
        var random = Random(seed: 3)
        for _ in 0..<3_000 { dates.append(Date(timeIntervalSince1970: Double.random(in: -1.2e10...2.5e11, using: &random))) }
        for date in dates {
            var json = WireJSONWriter()
            json.beginArray()
            let written = json.timestamp(date)
            #expect(written)
            json.endArray()
            #expect(String(decoding: json.bytes, as: UTF8.self) == (try Self.foundation([date])), "\(date.timeIntervalSince1970)")
        }
        var json = WireJSONWriter()
        // 1582-12-31T23:59:59.999 (the Julian calendar's, to the formatter), year 0, year 10000, out of range.
        let left = [-12_212_553_600.001, -62_135_596_801, 253_402_300_800, 1e300].map { Date(timeIntervalSince1970: $0) }
        for date in left {
            let written = json.timestamp(date)
            #expect(!written, "\(date.timeIntervalSince1970) is left to the formatter")
        }
        #expect(json.bytes.isEmpty)
    }

    /// One event of every kind, with fields that are set and unset, strings that need escaping, and times.
    static func events(_ random: inout Random) -> [ContextEvent] {
        let context = ContextID(rawValue: "ctx-\(Self.string(&random, length: 4))")
        let node = "web-\(Self.string(&random, length: 6))"
        let time = Date(timeIntervalSince1970: Double.random(in: 0...4e9, using: &random))
        let script = ScriptRef(
            phase: Int.random(in: 0...9, using: &random),
            script: "5-\(Self.string(&random))/public",
            arguments: (0..<Int.random(in: 0...2, using: &random)).map { _ in Self.string(&random) }
        )
        let identity = Identity(
            interface: "public",
            ip: "10.0.0.\(Int.random(in: 0...255, using: &random))",
            hostname: Self.string(&random),
            pubkey: "ssh-ed25519 AAAA"
        )
        var counts: [NodeState: Int] = [:]
        for state in NodeState.allCases where Bool.random(using: &random) { counts[state] = Int.random(in: 0...10_000, using: &random) }
        let changes: [ContextChange] = [
            .contextCreated(name: Self.string(&random), workspaces: ["a", "b"], nodes: ["a-0", "b-0"]),
            .nodeAdded(node: node, workspace: Self.string(&random)),
            .nodeRemoved(node: node, workspace: "w"),
            .nodeState(NodeTransition(node: node, from: .booted, to: .registered)),
            .nodeState(
                NodeTransition(
                    node: node,
                    from: .configuring,
                    to: .failed,
                    exitCode: -Int.random(in: 0...300, using: &random),
                    message: Self.string(&random)
                )
            ),
            .nodeState(NodeTransition(node: node, from: .registered, to: .waiting, waitingOn: ["head", "*", Self.string(&random)])),
            .nodeState(NodeTransition(node: node, from: .configuring, to: .timedOut, exitCode: 124, message: "", waitingOn: [])),
            .nodeRegistered(node: node, identities: [identity, identity]),
            .nodeRegistered(node: node, identities: []),
            .roleProgress(RoleStatus(role: Self.string(&random), registered: 3, ready: 2, expected: 10)),
            .registrationProgress(registered: Int.random(in: 0...100, using: &random), expected: 100),
            .scriptStarted(node: node, script: script),
            .scriptFinished(
                node: node,
                script: script,
                exitCode: Int.random(in: -1...255, using: &random),
                seconds: Double.random(in: 0...1e4, using: &random)
            ),
            .scriptFinished(node: node, script: script, exitCode: 0, seconds: 0),
            .providerJoined(node: node, roles: ["r", Self.string(&random)], requirers: ["x-0"]),
            .contextStatus(
                ContextStatus(
                    complete: Bool.random(using: &random),
                    allOk: Bool.random(using: &random),
                    errorPresent: Bool.random(using: &random),
                    registered: 4,
                    expected: 9,
                    terminated: Bool.random(using: &random),
                    counts: counts
                )
            ),
            .contextTerminated,
            .contextLimits(ContextLimits(bootTimeoutSeconds: 60, leaseEnds: time)),
            .nodeMachine(node: node, machine: MachineDetails(instanceID: "i-1", state: "running", privateIP: "10.0.0.1")),
            .contextDeleted,
        ]
        return changes.map { ContextEvent(sequence: random.next() >> 12, time: time, context: context, change: $0) }
    }

    @Test(arguments: 0..<40)
    func `every kind of event is written byte for byte as JSONEncoder writes it`(seed: UInt64) throws {
        var random = Random(seed: seed)
        for event in Self.events(&random) {
            let fast = String(decoding: try event.wireJSON(), as: UTF8.self)
            #expect(fast == (try Self.foundation(event)), "seed \(seed), \(event.change.kind)")
            // Read back (times to the millisecond, as the wire keeps them), it is written the same again.
            let decoded = try WireFormat.decoder().decode(ContextEvent.self, from: Data(fast.utf8))
            #expect(String(decoding: try decoded.wireJSON(), as: UTF8.self) == fast)
        }
    }

    @Test(arguments: 0..<20)
    func `a stored command decodes to the same command`(seed: UInt64) throws {
        var random = Random(seed: seed)
        let context = ContextID(rawValue: "c/\(Self.string(&random, length: 4))")
        let node = Self.string(&random)
        let script = ScriptRef(phase: 3, script: Self.string(&random), arguments: [Self.string(&random)])
        let identity = Identity(interface: Self.string(&random), ip: "10.1.2.3", hostname: "h.example.org", pubkey: Self.string(&random, length: 40))
        let commands: [EngineCommand] = [
            .checkIn(context: context, node: node, identities: [identity, identity]),
            .checkIn(context: context, node: node, identities: []),
            .scriptStarted(context: context, node: node, script: script),
            .scriptFinished(context: context, node: node, script: script, exitCode: Int.random(in: -300...300, using: &random)),
            .report(context: context, node: node, result: .ok),
            .report(context: context, node: node, result: .error(code: Int.random(in: -300...300, using: &random), message: Self.string(&random))),
            .launch(context: context, node: node),
            .booted(context: context, node: node),
            .kill(context: context, node: node),
            .retry(context: context, node: node),
            .timeOut(context: context, node: node, message: Self.string(&random)),
            .addNodes(context: context, workspace: "w", count: 3),
            .terminate(context: context),
        ]
        for command in commands {
            let stored = try command.storedJSON()
            #expect(try JSONDecoder().decode(EngineCommand.self, from: Data(stored)) == command, "\(String(decoding: stored, as: UTF8.self))")
        }
    }

    @Test(arguments: 0..<30)
    func `an answer is written byte for byte as JSONEncoder writes it, with or without its identities spliced in`(seed: UInt64) throws {
        var random = Random(seed: seed)
        func identity() -> Identity {
            Identity(
                interface: Self.string(&random, length: 5),
                ip: "10.0.0.1",
                hostname: Self.string(&random),
                pubkey: Self.string(&random, length: 30)
            )
        }
        let identities = (0..<Int.random(in: 0...4, using: &random)).map { index in
            NodeIdentities(node: "n-\(index)", identities: (0..<Int.random(in: 0...2, using: &random)).map { _ in identity() })
        }
        let requirements = (0..<Int.random(in: 0...3, using: &random)).map { _ in
            RequirementStatus(
                kind: Bool.random(using: &random) ? .role(Self.string(&random)) : .allIdentities,
                wait: Bool.random(using: &random) ? .ready : .registered,
                filled: Int.random(in: 0...9, using: &random),
                expected: Int.random(in: 0...9, using: &random),
                missing: (0..<Int.random(in: 0...3, using: &random)).map { _ in Self.string(&random) },
                metSince: Bool.random(using: &random) ? Date(timeIntervalSince1970: Double.random(in: 0...4e9, using: &random)) : nil
            )
        }
        let answer = NodeAnswer(
            version: Int.random(in: 1...50, using: &random),
            identities: identities,
            roles: (0..<Int.random(in: 0...2, using: &random)).map { _ in
                RoleAnswer(
                    role: Self.string(&random),
                    hostname: Bool.random(using: &random),
                    pubkey: Bool.random(using: &random),
                    providers: (0..<Int.random(in: 0...2, using: &random)).map { _ in .init(node: Self.string(&random), identity: identity()) }
                )
            },
            data: (0..<Int.random(in: 0...2, using: &random)).map { _ in DataSpec(name: Self.string(&random), value: Self.string(&random, length: 40))
            }
        )
        let responses = [
            AnswerResponse(released: true, state: .configuring, requirements: requirements, answer: answer),
            AnswerResponse(released: false, state: .waiting, requirements: requirements, answer: nil, terminated: Bool.random(using: &random)),
            AnswerResponse(released: true, state: .ok, requirements: [], answer: answer, terminated: true),
        ]
        for response in responses {
            let expected = try Self.foundation(response)
            #expect(String(decoding: try response.wireJSON(), as: UTF8.self) == expected, "seed \(seed)")
            let spliced = try response.wireJSON(identitiesJSON: response.answer.map { AnswerResponse.identitiesWireJSON($0.identities) })
            #expect(String(decoding: spliced, as: UTF8.self) == expected, "seed \(seed), spliced")
        }
    }

    @Test(arguments: 0..<8)
    func `a context's snapshot, detail and creation answer are written byte for byte as JSONEncoder writes them`(seed: UInt64) throws {
        var random = Random(seed: seed)
        let name = Fixtures.nimbusDocuments[Int(seed) % Fixtures.nimbusDocuments.count]
        let driver = try EngineDriver(
            try ClusterDocumentParser.document(from: try Fixtures.nimbus(name)),
            context: ContextID(rawValue: "ctx-\(seed)")
        )
        var snapshot = try driver.engine.snapshot(of: driver.context)
        let time = { (random: inout Random) in Date(timeIntervalSince1970: Double.random(in: 1e9...2e9, using: &random)) }
        for index in snapshot.nodes.indices {
            var node = snapshot.nodes[index]
            node.state = NodeState.allCases.randomElement(using: &random)!
            node.since = time(&random)
            node.generation = Int.random(in: 0...3, using: &random)
            node.identities = (0..<Int.random(in: 0...2, using: &random)).map { _ in
                Identity(interface: "public", ip: "10.0.0.9", hostname: Self.string(&random), pubkey: Self.string(&random, length: 20))
            }
            node.releasedAt = Bool.random(using: &random) ? time(&random) : nil
            node.exitCode = Bool.random(using: &random) ? Int.random(in: -9...255, using: &random) : nil
            node.message = Bool.random(using: &random) ? Self.string(&random) : nil
            node.timeline = (0..<Int.random(in: 0...3, using: &random)).map { _ in
                ScriptRun(
                    script: ScriptRef(phase: 5, script: Self.string(&random)),
                    started: time(&random),
                    finished: Bool.random(using: &random) ? time(&random) : nil,
                    exitCode: Bool.random(using: &random) ? 0 : nil
                )
            }
            if Bool.random(using: &random) {
                node.machine = MachineDetails(instanceID: "i-\(index)", state: "running", privateIP: "10.1.1.1", zone: Self.string(&random))
            }
            snapshot.nodes[index] = node
        }
        if Bool.random(using: &random) { snapshot.limits = ContextLimits(bootTimeoutSeconds: 600, completeBy: time(&random)) }
        #expect(String(decoding: try snapshot.wireJSON(), as: UTF8.self) == (try Self.foundation(snapshot)), "\(name)")
        let detail = ContextDetail(context: snapshot, data: ["head": [MaskedData(name: "secret", size: 12, sha256: "ab")]])
        #expect(String(decoding: try detail.wireJSON(), as: UTF8.self) == (try Self.foundation(detail)), "\(name)")
        let created = CreatedContext(
            context: snapshot,
            credentials: snapshot.nodes.map { NodeCredential(node: $0.name, generation: $0.generation, token: Self.string(&random, length: 30)) },
            warnings: []
        )
        #expect(String(decoding: try created.wireJSON(), as: UTF8.self) == (try Self.foundation(created)), "\(name)")
    }
}
