import MusterCore
import Testing

@Suite("Host names")
struct HostNameTests {
    @Test(arguments: [
        "foo.bar.com", "rabbitmq-head-0.cpe-3f9a.muster.local", "node1", "a", "A-b.C-d", "123.example.org", "xn--bcher-kva.example",
        String(repeating: "a", count: 63) + ".example",
        ([String](repeating: String(repeating: "a", count: 61), count: 4) + ["ab"]).joined(separator: "."),
    ])
    func `RFC 1123 names are accepted`(name: String) {
        #expect(HostName.isValid(name), "\(HostName.problem(in: name) ?? "")")
    }

    @Test(arguments: [
        "", "+", "*", "*.example.org", "h?st", "host name", "host\tname", "host\nevil", "host\u{0}", "-lead.example", "trail-.example",
        "a..b", ".a", "a.", "example.org.", "host_name.example", "h@st", "host,10.0.0.1", "café.example", "10.0.0.1", "1.2.3.4", "123",
        "host/name", "host\\name", String(repeating: "a", count: 64) + ".example", String(repeating: "ab.", count: 84) + "com",
    ])
    func `anything else is refused with a reason`(name: String) {
        #expect(!HostName.isValid(name))
        let reason = HostName.problem(in: name) ?? ""
        #expect(!reason.isEmpty)
        #expect(!reason.contains("\n") && !reason.contains("\u{0}"))
    }

    @Test func `a trailing dot is refused with advice`() {
        #expect(HostName.problem(in: "node.example.org.")?.contains("trailing dot") == true)
    }

    @Test(arguments: [
        ("head-node-0", "head-node-0"), ("db_primary-0", "db-primary-0"), ("c++-1", "c---1"), ("-x-0", "x-0"), ("user@realm-2", "user-realm-2"),
        ("", "node"), ("___", "node"),
    ])
    func `a node name becomes a host name label`(name: String, label: String) {
        #expect(HostName.label(from: name) == label)
        #expect(HostName.isValid(HostName.label(from: name) + ".ctx.muster.local"))
    }

    @Test func `a long node name is cut to one label`() {
        let label = HostName.label(from: String(repeating: "w", count: 128) + "-0")
        #expect(label.utf8.count == 63)
        #expect(HostName.isValid(label + ".ctx.muster.local"))
    }
}
