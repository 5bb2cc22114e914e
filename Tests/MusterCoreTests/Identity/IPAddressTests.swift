import MusterCore
import Testing

@Suite("IP address literals")
struct IPAddressTests {
    @Test(arguments: [
        ("10.0.0.7", [10, 0, 0, 7]), ("0.0.0.0", [0, 0, 0, 0]), ("255.255.255.255", [255, 255, 255, 255]), ("127.77.0.2", [127, 77, 0, 2]),
        ("192.0.2.100", [192, 0, 2, 100]),
    ])
    func `dotted quads are IPv4`(text: String, bytes: [UInt8]) throws {
        let address = try #require(IPAddress(text))
        #expect(address.family == .v4)
        #expect(address.bytes == bytes)
        #expect(IPAddress.problem(in: text) == nil)
    }

    @Test(arguments: [
        "256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1..3.4", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "0x7f.0.0.1",
        "1.2.3.4/24", "1.2.3.1000", "+1.2.3.4", "1.2.3.4\n", "1.2.3.4\u{0}", "１.2.3.4", "localhost", "", "*", "1.2.3.4,5.6.7.8",
    ])
    func `anything else is not an IPv4 literal`(text: String) {
        #expect(IPAddress(text) == nil)
        #expect(IPAddress.problem(in: text) != nil)
    }

    @Test(arguments: [
        ("::", "00000000000000000000000000000000"), ("::1", "00000000000000000000000000000001"),
        ("fe80::1", "fe800000000000000000000000000001"), ("2001:db8::8a2e:370:7334", "20010db80000000000008a2e03707334"),
        ("2001:DB8:0:0:0:0:0:1", "20010db8000000000000000000000001"), ("1:2:3:4:5:6:7:8", "00010002000300040005000600070008"),
        ("::ffff:192.0.2.1", "00000000000000000000ffffc0000201"), ("64:ff9b::192.0.2.33", "0064ff9b0000000000000000c0000221"),
        ("1::", "00010000000000000000000000000000"), ("1:2:3:4:5:6::8", "00010002000300040005000600000008"),
        ("1:2:3:4:5:6:1.2.3.4", "00010002000300040005000601020304"),
    ])
    func `RFC 4291 text is IPv6`(text: String, hex: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.family == .v6)
        let digits: [String] = address.bytes.map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }
        #expect(digits.joined() == hex)
    }

    @Test(arguments: [
        ":::", "1:::2", "1::2::3", ":1::2", "1::2:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "12345::1", "g::1",
        "fe80::1%eth0", "[::1]", "::1 ", "::ffff:1.2.3", "::1.2.3.4:5", "1.2.3.4::", "::ffff:256.1.1.1", "1:2:3:4:5:6:7:1.2.3.4", ":",
        "::ffff:01.2.3.4", "1:2:3:4:5:6:7:8%1", "::\n1",
    ])
    func `anything else is not an IPv6 literal`(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func `the reason names a zone id, brackets and whitespace`() {
        #expect(IPAddress.problem(in: "fe80::1%eth0")?.contains("zone id") == true)
        #expect(IPAddress.problem(in: "[::1]")?.contains("brackets") == true)
        #expect(IPAddress.problem(in: "10.0.0.1\n127.0.0.1 evil")?.contains("whitespace") == true)
        #expect(IPAddress.problem(in: "10.0.0.1\n127.0.0.1 evil")?.contains("\n") == false)
    }
}
