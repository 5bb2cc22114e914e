import Foundation
import MusterSystem
import Testing

/// Brokers sharing a PostgreSQL database, as an operator meets them: `muster status` says which replica answered
/// and moves on to the other when one is lost.
@Suite("Broker replicas from the command line")
struct ReplicaCommandTests {
    @Test func `muster status says which replica answered, and moves to the other when one is lost`() async throws {
        try await ThrowawayPostgres.with { server in
            let store = server.urlText(database: try await server.createDatabaseNamed())
            let token = workFolder("replica-token") + "/token"
            try "mst_op_replica-\(UUID().uuidString)\n".write(toFile: token, atomically: true, encoding: .utf8)
            let ports = (try freePort(), try freePort())
            let a = try BackgroundCommand([
                "broker", "--store", store, "--name", "a", "--listen", "127.0.0.1:\(ports.0)", "--state", workFolder("replica-a"), "--token-file",
                token,
            ])
            let b = try BackgroundCommand([
                "broker", "--store", store, "--name", "b", "--listen", "127.0.0.1:\(ports.1)", "--state", workFolder("replica-b"), "--token-file",
                token,
            ])
            await a.waitFor("listening on")
            await b.waitFor("listening on")
            let urls = "http://127.0.0.1:\(ports.0),http://127.0.0.1:\(ports.1)"

            let first = try await CommandRunner.muster(["status", "--broker", urls, "--token-file", token])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("no contexts on this broker"))
            #expect(first.stdout.contains("answered by http://127.0.0.1:\(ports.0) (replica a, postgres)"), "\(first.stdout)")

            // Replica a's machine is lost: the same command goes on to b.
            _ = await a.stop(signal: SIGKILL)
            let second = try await CommandRunner.muster(["status", "--broker", urls, "--token-file", token])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stdout.contains("answered by http://127.0.0.1:\(ports.1) (replica b, postgres)"), "\(second.stdout)")
            _ = await b.stop()
        }
    }
}
