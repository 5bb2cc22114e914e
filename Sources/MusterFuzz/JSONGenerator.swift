/// Makes random JSON bodies shaped like the broker's agent and operator requests: the right keys most of the
/// time, with values drawn from boundary cases (integers just past `Int` range, huge exponents, lone surrogate
/// escapes, control characters, long strings), wrong types, missing and extra keys, and deep nesting.
public struct JSONGenerator: Sendable {
    /// The shape of one field of a body.
    public indirect enum Shape: Sendable {
        case string
        case integer
        case boolean
        case date
        /// One of these strings (an enum's raw values).
        case oneOf([String])
        /// An object with these fields (`true`: required).
        case object([(key: String, shape: Shape, required: Bool)])
        case array(Shape)
    }

    /// The body's top-level shape.
    public let shape: Shape

    /// Creates a generator for bodies of one shape.
    public init(_ shape: Shape) {
        self.shape = shape
    }

    /// Tokens worth inserting into JSON bodies when mutating them.
    public static let dictionary = [
        "{", "}", "[", "]", "\"", ":", ",", "null", "true", "false", "0", "-0", "1e2", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "1e309", "-1e309", "1.5", "\\u0000", "\\ud800", "\\udc00\\ud800", "\\\"", "\\n", "\u{1b}", "\u{202E}",
        String(repeating: "[", count: 600), "\"\": ", "\"identities\":", "\"lines\":", "\"count\":", "\"index\":",
    ]

    /// One random body.
    public func generate(using random: inout some RandomNumberGenerator) -> [UInt8] {
        if Int.random(in: 0..<40, using: &random) == 0 {
            let depth = Int.random(in: 100...20_000, using: &random)
            return Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
        }
        return Array(value(shape, depth: 0, using: &random).utf8)
    }

    private func value(_ shape: Shape, depth: Int, using random: inout some RandomNumberGenerator) -> String {
        if Int.random(in: 0..<25, using: &random) == 0 { return wrongValue(depth: depth, using: &random) }
        switch shape {
        case .string: return quoted(Self.strings.randomElement(using: &random)!)
        case .integer: return Self.integers.randomElement(using: &random)!
        case .boolean: return Bool.random(using: &random) ? "true" : "false"
        case .date: return quoted(Self.dates.randomElement(using: &random)!)
        case .oneOf(let options):
            return quoted(Int.random(in: 0..<8, using: &random) == 0 ? "bogus" : options.randomElement(using: &random)!)
        case .object(let fields):
            var members: [String] = []
            for field in fields where field.required || Bool.random(using: &random) {
                if Int.random(in: 0..<30, using: &random) == 0 { continue }
                members.append("\(quoted(field.key)):\(value(field.shape, depth: depth + 1, using: &random))")
            }
            if Int.random(in: 0..<10, using: &random) == 0 { members.append("\"extra\":\(wrongValue(depth: depth + 1, using: &random))") }
            if Int.random(in: 0..<20, using: &random) == 0, let first = members.first { members.append(first) }
            members.shuffle(using: &random)
            return "{" + members.joined(separator: ",") + "}"
        case .array(let element):
            let count = Int.random(in: 0..<12, using: &random) == 0 ? Int.random(in: 20...200, using: &random) : Int.random(in: 0...3, using: &random)
            return "[" + (0..<count).map { _ in value(element, depth: depth + 1, using: &random) }.joined(separator: ",") + "]"
        }
    }

    private func wrongValue(depth: Int, using random: inout some RandomNumberGenerator) -> String {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return "null"
        case 1: return Self.integers.randomElement(using: &random)!
        case 2: return quoted(Self.strings.randomElement(using: &random)!)
        case 3: return depth > 8 ? "[]" : "[\(wrongValue(depth: depth + 1, using: &random))]"
        case 4: return depth > 8 ? "{}" : "{\"k\":\(wrongValue(depth: depth + 1, using: &random))}"
        default: return "true"
        }
    }

    private func quoted(_ text: String) -> String { "\"" + text + "\"" }

    /// String contents, already JSON-escaped where needed (some escapes are deliberately invalid).
    private static let strings = [
        "", "public", "publicnic", "head-0", "10.0.0.7", "::1", "fe80::1%eth0", "node.example.org", "node.example.org.", "+", "*",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIItBoDFw6BjI1MUuLYx6uoEQo2WRYdriY2OLo91RXEZt root@n",
        "@cert-authority * ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIItBoDFw6BjI1MUuLYx6uoEQo2WRYdriY2OLo91RXEZt",
        "a\\nb", "\\u0000", "\\u001b[2J", "\\ud800", "\\udfff\\ud800", "\\u202e", "caf\\u00e9", "\u{1F680}", "x\\\"y", "\\\\",
        "1-ipandhost/rabbitmq-head", "../../etc/passwd", String(repeating: "x", count: 20_000), "\\q",
    ]

    private static let integers = [
        "0", "1", "-1", "2", "5", "127", "32767", "32768", "65536", "2147483648", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e2", "1E400", "1e-400", "-0", "0.5", "1.0", "01",
        "1e18", "1e19",
    ]

    private static let dates = [
        "2026-11-25T20:00:52.123Z", "2026-11-25T20:00:52Z", "2026-11-25T20:00:52.123456789Z", "1970-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999Z", "0000-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "yesterday", "",
    ]
}

extension JSONGenerator.Shape {
    /// `CheckInRequest`.
    public static let checkIn = Self.object([
        (
            "identities",
            .array(.object([("interface", .string, true), ("ip", .string, true), ("hostname", .string, true), ("pubkey", .string, true)])),
            true
        )
    ])
    /// `OutputAppendRequest`.
    public static let outputAppend = Self.object([
        (
            "lines",
            .array(
                .object([
                    ("index", .integer, true), ("time", .date, true), ("phase", .integer, true), ("script", .string, true),
                    ("stream", .oneOf(["stdout", "stderr", "agent"]), true), ("text", .string, true),
                ])
            ),
            true
        )
    ])
    /// `ScriptReport`.
    public static let scriptReport = Self.object([
        ("script", .object([("phase", .integer, true), ("script", .string, true), ("arguments", .array(.string), true)]), true),
        ("exitCode", .integer, false),
    ])
    /// `ResultReport`.
    public static let resultReport = Self.object([("ok", .boolean, true), ("code", .integer, false), ("message", .string, false)])
    /// `AddNodesRequest`.
    public static let addNodes = Self.object([("count", .integer, true), ("launch", .boolean, false)])
}
