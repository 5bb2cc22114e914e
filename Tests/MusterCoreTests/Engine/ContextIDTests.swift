import MusterCore
import MusterFuzz
import Testing

@Suite("Context ids")
struct ContextIDTests {
    @Test func `a free name gets a four digit suffix`() {
        var random = SplitMix64(seed: 1)
        let id = ContextID.make(name: "cpe", isTaken: { _ in false }, using: &random)
        #expect(id?.rawValue.count == "cpe-".count + 4)
        #expect(id?.rawValue.hasPrefix("cpe-") == true)
    }

    @Test func `with every four digit id of a name taken, an eight digit one is found at once`() {
        var random = SplitMix64(seed: 2)
        var asked = 0
        let id = ContextID.make(
            name: "cpe",
            isTaken: { id in
                asked += 1
                return id.rawValue.count == "cpe-".count + 4
            },
            using: &random
        )
        #expect(id?.rawValue.count == "cpe-".count + 8)
        #expect(asked == ContextID.attemptsPerWidth + 1)
    }

    @Test func `when every id is taken it gives up after a bounded number of tries`() {
        var random = SplitMix64(seed: 3)
        var asked = 0
        let id = ContextID.make(
            name: "cpe",
            isTaken: { _ in
                asked += 1
                return true
            },
            using: &random
        )
        #expect(id == nil)
        #expect(asked == ContextID.suffixWidths.count * ContextID.attemptsPerWidth)
    }

    @Test func `the same seed gives the same id`() {
        var first = SplitMix64(seed: 9)
        var second = SplitMix64(seed: 9)
        #expect(
            ContextID.make(name: "x", isTaken: { _ in false }, using: &first) == ContextID.make(name: "x", isTaken: { _ in false }, using: &second)
        )
    }

    @Test(arguments: [
        ("cpe", "cpe"), ("My Cluster!", "my-cluster"), ("--a__b--", "a-b"), ("café", "caf"), ("", "cluster"), ("日本", "cluster"),
        (String(repeating: "abc", count: 20), String(repeating: "abc", count: 8)), ("a" + String(repeating: "-", count: 30) + "b", "a-b"),
    ])
    func `a slug is a host name label`(name: String, slug: String) {
        #expect(ContextID.slug(for: name) == slug)
        #expect(HostName.isValid(ContextID.slug(for: name) + "-3f9a"))
    }
}
