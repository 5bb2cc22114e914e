import Crypto
import Foundation

/// Bearer tokens: minted from the system's secure random source, stored only as SHA-256 hashes, compared in
/// constant time.
public enum Token {
    /// Prefix of operator tokens (so a leaked token says what it is).
    public static let operatorPrefix = "mst_op_"
    /// Prefix of node tokens.
    public static let nodePrefix = "mst_node_"

    /// A new token: the prefix and 32 random bytes in URL-safe base64.
    public static func mint(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let encoded = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return prefix + encoded
    }

    /// The SHA-256 of a token, as stored.
    public static func hash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(token.utf8)))
    }

    /// Whether `token` hashes to `hash`, comparing every byte whatever the first difference.
    public static func matches(_ token: String, hash: [UInt8]) -> Bool {
        constantTimeEqual(Self.hash(token), hash)
    }

    /// Compares two byte strings in time that depends only on their lengths.
    public static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
