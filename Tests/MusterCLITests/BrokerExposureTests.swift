import Foundation
import Testing

/// A broker that machines elsewhere can reach: TLS unless plain HTTP is asked for by name, a certificate for the
/// advertised address from the broker's own CA, and nothing served in clear by accident.
@Suite("A broker reached from other machines")
struct BrokerExposureTests {
    @Test func `listening beyond loopback without --advertise is refused: the certificate needs a name`() async throws {
        let state = workFolder("exposure-noname")
        let result = try await CommandRunner.muster(["broker", "--listen", "0.0.0.0:0", "--state", state])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("needs --advertise https://NAME-OR-IP:0"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state + "/tls/ca-key.pem"), "nothing is created for a refused start")
    }

    @Test func `advertising plain HTTP beyond loopback is refused without --insecure-http`() async throws {
        let state = workFolder("exposure-http")
        let result = try await CommandRunner.muster([
            "broker", "--listen", "0.0.0.0:0", "--advertise", "http://203.0.113.7:7077", "--state", state,
        ])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("plain HTTP beyond this machine"), "\(result.stderr)")
        #expect(result.stdout.isEmpty, "no operator token is shown for a broker that did not start: \(result.stdout)")
    }

    @Test func `beyond loopback the broker serves HTTPS from its own CA; this machine's tools reach it on loopback`() async throws {
        let state = workFolder("exposure-tls")
        // 203.0.113.7 (TEST-NET-3) stands for a public address this machine cannot reach itself (a NAT's).
        let broker = try BackgroundCommand(["broker", "--listen", "0.0.0.0:0", "--advertise", "https://203.0.113.7", "--state", state])
        defer { Task { await broker.stop() } }
        await broker.waitFor("nodes reach it at https://203.0.113.7:")
        let lines = broker.text.split(separator: "\n")
        let url = try #require(
            lines.first { $0.hasPrefix("muster broker listening on") }.flatMap { $0.split(separator: " ").first { $0.hasPrefix("https://") } }
                .map(String.init)
        )
        #expect(url.hasPrefix("https://127.0.0.1:"), "this machine's tools use loopback: \(url)")
        let port = try #require(url.split(separator: ":").last.map(String.init))
        #expect(
            lines.contains { $0 == "nodes reach it at https://203.0.113.7:\(port)" },
            "the advertised URL takes the listening port: \(broker.text)"
        )
        let ca = state + "/tls/ca-cert.pem"
        let key = try FileManager.default.attributesOfItem(atPath: state + "/tls/ca-key.pem")
        #expect((key[.posixPermissions] as? Int) == 0o600)

        let pinned = try await CommandRunner.shell("curl -sS --cacert \(ca) \(url)/v1/healthz", in: URL(fileURLWithPath: state))
        #expect(pinned.status == 0 && pinned.stdout.contains("\"ok\""), "\(pinned.stdout)\(pinned.stderr)")
        let unpinned = try await CommandRunner.shell("curl -sS \(url)/v1/healthz", in: URL(fileURLWithPath: state))
        #expect(unpinned.status != 0, "a client that does not pin the broker's CA cannot verify it")
        let clear = try await CommandRunner.shell(
            "curl -sS \(url.replacingOccurrences(of: "https://", with: "http://"))/v1/healthz",
            in: URL(fileURLWithPath: state)
        )
        #expect(!clear.stdout.contains("\"ok\""), "nothing is answered in clear: \(clear.stdout)")

        let status = try await CommandRunner.muster(["status", "--state", state], environment: ["MUSTER_BROKER": "", "MUSTER_TOKEN": ""])
        #expect(status.status == 0 || status.status == 66, "\(status.stdout)\(status.stderr)")
        #expect(
            !status.stderr.contains("certificate") && !status.stderr.contains("reach"),
            "the CLI trusts <state>/tls/ca-cert.pem: \(status.stderr)"
        )
    }

    @Test func `--insecure-http serves plain HTTP beyond loopback, with a warning`() async throws {
        let state = workFolder("exposure-insecure")
        let broker = try BackgroundCommand(["broker", "--listen", "0.0.0.0:0", "--insecure-http", "--state", state])
        defer { Task { await broker.stop() } }
        await broker.waitFor("muster broker listening on http://")
        #expect(broker.text.contains("warning: --insecure-http"), "\(broker.text)")
        #expect(!FileManager.default.fileExists(atPath: state + "/tls/ca-cert.pem"))
    }
}
