import Crypto
import Foundation

/// The digest operator views show in place of a data value: the first 12 hexadecimal digits of an
/// HMAC-SHA256 of the value, under a key that is this broker's own.
///
/// Enough to tell two values apart, or to see that a value changed, and nothing more: without the key, which
/// never leaves the broker's state, a short secret (a PIN, a word) cannot be found by hashing guesses, as it could
/// from a plain SHA-256 prefix. The key is made at first start and kept in the store, so digests stay the same
/// across restarts.
struct DataDigest: Sendable {
    /// The key's bytes, to store.
    let keyBytes: [UInt8]

    init(key: [UInt8]) {
        self.keyBytes = key
    }

    /// A new random 256-bit key.
    static func random() -> DataDigest {
        var generator = SystemRandomNumberGenerator()
        return DataDigest(key: (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// The masked digest of a value.
    func digest(_ value: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(value.utf8), using: SymmetricKey(data: keyBytes))
        return mac.prefix(6).map { String(format: "%02x", $0) }.joined()
    }
}
