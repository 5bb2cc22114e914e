import Foundation
import MusterCore
import Testing

/// Attacks measured on a `muster broker` child process: its open-files limit, its memory.
@Suite("Attacks on a broker process")
struct BrokerProcessAttackTests {
    @Test func `2,000 idle connections under ulimit -n 1024 do not lock healthz out, and are closed after the timeout`() async throws {
        raiseOpenFilesLimit()
        let broker = try await BrokerChild.start(openFiles: 1024, arguments: ["--header-timeout", "3", "--idle-timeout", "3"])
        var idle: [RawConnection] = []
        for round in 0..<20 {
            for _ in 0..<100 { idle.append(try RawConnection(port: broker.port)) }
            let status = await broker.status(BrokerRoutes.health)
            #expect(status == 200, "healthz after \((round + 1) * 100) idle connections: \(status.map(String.init) ?? "no answer")")
        }
        // Every idle connection is closed by the broker: shed to make room, or timed out.
        var open = idle
        for _ in 0..<600 where !open.isEmpty {
            open.removeAll { $0.isClosedByPeer }
            if !open.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(open.isEmpty, "\(open.count) of 2000 idle connections still open")
        #expect(await broker.status(BrokerRoutes.health) == 200)
        await broker.stop()
    }

    @Test func `300 stream readers that never read hold bounded memory, returned when they leave`() async throws {
        raiseOpenFilesLimit()
        let broker = try await BrokerChild.start(arguments: ["--max-streams-per-token", "400", "--stream-buffer", "64"])
        let document = """
            <cluster><workspace><name>w</name><image>i</image><quantity>500</quantity><nic>public</nic>
            <ctx><provides><identity/></provides></ctx></workspace></cluster>
            """
        // Warm up: the same work once with no readers.
        for _ in 0..<5 { #expect(await broker.status(BrokerRoutes.contexts + "?launch=true", method: "POST", token: broker.token, body: document) == 201) }
        let baseline = broker.residentMegabytes
        var readers: [RawConnection] = []
        for _ in 0..<300 {
            let reader = try RawConnection(port: broker.port, receiveBuffer: 4_096)
            try reader.send(RawConnection.request(BrokerRoutes.events, token: broker.token))
            readers.append(reader)
        }
        // Each launch of 500 nodes is about 1,000 events for every reader.
        for _ in 0..<20 { #expect(await broker.status(BrokerRoutes.contexts + "?launch=true", method: "POST", token: broker.token, body: document, timeout: .seconds(60)) == 201) }
        let during = broker.residentMegabytes
        readers.removeAll()
        var streams = -1
        for _ in 0..<300 where streams != 0 {
            try await Task.sleep(for: .milliseconds(100))
            streams = await openStreams(broker) ?? -1
        }
        #expect(streams == 0)
        let after = broker.residentMegabytes
        print("300 readers: broker RSS baseline \(baseline) MB, with the readers \(during) MB, after they left \(after) MB")
        #expect(during - baseline < 150, "300 readers: \(baseline) → \(during) MB")
        #expect(after - baseline < 60, "after they left: \(baseline) → \(after) MB")
        #expect(await broker.status(BrokerRoutes.health) == 200)
        await broker.stop()
    }

    private func openStreams(_ broker: BrokerChild) async -> Int? {
        guard let connection = try? RawConnection(port: broker.port),
            (try? connection.send(RawConnection.request(BrokerRoutes.metrics, headers: ["Connection: close"]))) != nil
        else { return nil }
        let text = String(decoding: await connection.readUntilClosed(timeout: .seconds(10)).data, as: UTF8.self)
        return text.split(separator: "\n").first { $0.hasPrefix("muster_open_streams ") }.flatMap { Int($0.split(separator: " ").last ?? "") }
    }
}
