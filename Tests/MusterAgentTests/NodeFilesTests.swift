import Foundation
import MusterAgent
import Testing

@Suite("Node files")
struct NodeFilesTests {
    let files = HostFiles(
        hosts: ["10.0.3.1 foo.bar.com foo"],
        hostsEquiv: ["foo.bar.com", "foo"],
        knownHosts: ["foo.bar.com,10.0.3.1 ssh-ed25519 AAAAkey", "foo,10.0.3.1 ssh-ed25519 AAAAkey"]
    )

    @Test("the three files are written under the node root, in a managed block")
    func writesUnderRoot() async throws {
        try await TemporaryNode.with { node in
            try NodeFiles(root: node.root).write(files)
            let hosts = try #require(node.text("etc/hosts"))
            #expect(hosts.contains("\n10.0.3.1 foo.bar.com foo\n"))
            #expect(hosts.hasPrefix("# BEGIN muster-agent"))
            #expect(node.text("etc/hosts.equiv")?.contains("\nfoo.bar.com\nfoo\n") == true)
            #expect(
                node.text("etc/ssh/ssh_known_hosts")?.contains("\nfoo.bar.com,10.0.3.1 ssh-ed25519 AAAAkey\nfoo,10.0.3.1 ssh-ed25519 AAAAkey\n")
                    == true
            )
            #expect((try? String(contentsOfFile: "/etc/hosts", encoding: .utf8))?.contains("foo.bar.com") != true)
        }
    }

    @Test("writing again changes nothing; a refresh replaces only the managed block and keeps other lines")
    func idempotentRefresh() async throws {
        try await TemporaryNode.with { node in
            let hostsURL = node.root.appendingPathComponent("etc/hosts")
            try FileManager.default.createDirectory(at: hostsURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("127.0.0.1 localhost\n# operator's line\n".utf8).write(to: hostsURL)
            let writer = NodeFiles(root: node.root)
            try writer.write(files)
            let once = node.text("etc/hosts")
            try writer.write(files)
            #expect(node.text("etc/hosts") == once)

            try Data((once! + "192.0.2.1 later.example.org\n").utf8).write(to: hostsURL)
            var refreshed = files
            refreshed.hosts.append("10.0.3.9 head2.bar.com head2")
            try writer.write(refreshed)
            #expect(
                node.text("etc/hosts") == """
                    127.0.0.1 localhost
                    # operator's line
                    # BEGIN muster-agent (managed block: rewritten on every refresh)
                    10.0.3.1 foo.bar.com foo
                    10.0.3.9 head2.bar.com head2
                    # END muster-agent
                    192.0.2.1 later.example.org

                    """
            )
        }
    }
}
