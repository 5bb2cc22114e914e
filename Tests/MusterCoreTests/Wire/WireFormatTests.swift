import Foundation
import MusterCore
import Testing

@Suite("Wire format")
struct WireFormatTests {
    private struct Stamp: Codable, Equatable {
        var time: Date
    }

    private func roundTrip(_ text: String) throws -> String {
        let decoded = try WireFormat.decoder().decode(Stamp.self, from: Data("{\"time\":\"\(text)\"}".utf8))
        let json = String(decoding: try WireFormat.encoder().encode(decoded), as: UTF8.self)
        return String(json.dropFirst("{\"time\":\"".count).dropLast(2))
    }

    @Test func `a millisecond timestamp survives a round trip unchanged`() throws {
        var drifted: [String] = []
        for second in 50..<53 {
            for millisecond in 0..<1_000 {
                let digits = String(millisecond)
                let text = "2026-11-25T20:00:\(second).\(String(repeating: "0", count: 3 - digits.count))\(digits)Z"
                if try roundTrip(text) != text { drifted.append(text) }
            }
        }
        #expect(drifted.isEmpty, "\(drifted.prefix(5))")
        #expect(try roundTrip("2026-11-25T20:00:52.999Z") == "2026-11-25T20:00:52.999Z")
        #expect(try roundTrip("9999-12-31T23:59:59.999Z") == "9999-12-31T23:59:59.999Z")
    }

    @Test func `a timestamp without fractional seconds is written with them`() throws {
        #expect(try roundTrip("2026-11-25T20:00:52Z") == "2026-11-25T20:00:52.000Z")
    }

    @Test func `a sub-millisecond time is rounded to the nearest millisecond`() throws {
        let encoded = String(decoding: try WireFormat.encoder().encode(Stamp(time: Date(timeIntervalSince1970: 1_790_000_000.123_7))), as: UTF8.self)
        #expect(encoded.contains(".124Z"))
    }
}
