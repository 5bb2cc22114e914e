/// An OpenSSH public key line (`TYPE BASE64 [COMMENT]`), parsed strictly: what a node may report as its SSH
/// host key.
///
/// The key is written into other nodes' `ssh_known_hosts`, where a line can also carry markers
/// (`@cert-authority`, `@revoked`), host patterns and options. So a key line is accepted only when it is exactly
/// one line of printable ASCII, its type is one of ``KeyType``, its base64 is canonical and decodes to an SSH
/// wire blob whose first string is that same type, and the key in the blob is plausible for the type (an
/// Ed25519 key is 32 bytes, an RSA modulus 1024–16384 bits, an ECDSA point uncompressed on its curve's size).
/// Fields are separated by single or repeated spaces; the comment may hold any printable ASCII.
public struct SSHPublicKey: Sendable, Hashable, CustomStringConvertible {
    /// The key types a host key may have.
    public enum KeyType: String, Sendable, Hashable, CaseIterable {
        case ed25519 = "ssh-ed25519"
        case rsa = "ssh-rsa"
        case ecdsaP256 = "ecdsa-sha2-nistp256"
        case ecdsaP384 = "ecdsa-sha2-nistp384"
        case ecdsaP521 = "ecdsa-sha2-nistp521"
        case skEd25519 = "sk-ssh-ed25519@openssh.com"
        case skECDSAP256 = "sk-ecdsa-sha2-nistp256@openssh.com"
    }

    /// The longest key line accepted, in bytes (a 16384-bit RSA key is about 2,800).
    public static let maximumLength = 8192
    /// The longest comment accepted, in bytes.
    public static let maximumCommentLength = 1024

    /// The key type.
    public let type: KeyType
    /// The decoded wire blob (its first string is ``type``).
    public let blob: [UInt8]
    /// The comment, if the line has one.
    public let comment: String?

    /// Parses and checks one key line.
    public init(_ line: String) throws(SSHPublicKeyError) {
        let bytes = Array(line.utf8)
        guard !bytes.isEmpty else { throw SSHPublicKeyError(.format, "it is empty; give the node's SSH host public key") }
        guard bytes.count <= Self.maximumLength else {
            throw SSHPublicKeyError(.format, "it is longer than \(Self.maximumLength) bytes")
        }
        if let bad = bytes.first(where: { $0 < 0x20 || $0 >= 0x7F }) {
            let what =
                bad == 0x0A || bad == 0x0D ? "a line break" : bad == 0 ? "a NUL byte" : bad >= 0x80 ? "a non-ASCII character" : "a control character"
            throw SSHPublicKeyError(.format, "it contains \(what); give exactly one line of printable ASCII")
        }
        let fields = bytes.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: true)
        guard bytes.first != UInt8(ascii: " "), fields.count >= 2 else {
            throw SSHPublicKeyError(.format, "it is not 'TYPE BASE64 [COMMENT]' (for example 'ssh-ed25519 AAAAC3Nza… root@host')")
        }
        let typeText = String(decoding: fields[0], as: UTF8.self)
        guard let type = KeyType(rawValue: typeText) else {
            let shown = TerminalText.truncated(typeText, to: 40)
            let known = KeyType.allCases.map(\.rawValue).joined(separator: ", ")
            if typeText.hasPrefix("@") {
                throw SSHPublicKeyError(.unknownType, "it starts with the known_hosts marker '\(shown)'; give a bare key (types: \(known))")
            }
            throw SSHPublicKeyError(.unknownType, "'\(shown)' is not a host key type (types: \(known))")
        }
        guard let blob = Base64.decode(fields[1]) else {
            throw SSHPublicKeyError(.base64, "the key data is not canonical base64")
        }
        if fields.count == 3 {
            var comment = fields[2]
            while comment.first == UInt8(ascii: " ") { comment.removeFirst() }
            while comment.last == UInt8(ascii: " ") { comment.removeLast() }
            guard comment.count <= Self.maximumCommentLength else {
                throw SSHPublicKeyError(.format, "its comment is longer than \(Self.maximumCommentLength) bytes")
            }
            self.comment = comment.isEmpty ? nil : String(decoding: comment, as: UTF8.self)
        } else {
            self.comment = nil
        }
        try Self.checkBlob(blob, type: type)
        self.type = type
        self.blob = blob
    }

    /// Makes an Ed25519 key line from the 32-byte public key, for example one an agent has just generated.
    public init(ed25519 key: [UInt8], comment: String? = nil) {
        precondition(key.count == 32, "an Ed25519 public key is 32 bytes")
        var writer = SSHWireWriter()
        writer.string(Array(KeyType.ed25519.rawValue.utf8))
        writer.string(key)
        type = .ed25519
        blob = writer.bytes
        self.comment = comment
    }

    /// `TYPE BASE64`: the key without its comment, as `ssh_known_hosts` takes it.
    public var keyField: String { "\(type.rawValue) \(Base64.encode(blob))" }

    /// The whole line, comment included.
    public var line: String { comment.map { "\(keyField) \($0)" } ?? keyField }

    public var description: String { line }

    // MARK: Blob

    private static func checkBlob(_ blob: [UInt8], type: KeyType) throws(SSHPublicKeyError) {
        var reader = SSHWireReader(blob)
        guard let name = reader.string(), name.elementsEqual(type.rawValue.utf8) else {
            throw SSHPublicKeyError(.blob, "the key data is not a \(type.rawValue) key (its type string differs from the line's)")
        }
        switch type {
        case .ed25519, .skEd25519:
            guard let key = reader.string(), key.count == 32 else {
                throw SSHPublicKeyError(.keySize, "the \(type.rawValue) key is not 32 bytes")
            }
            if type == .skEd25519 { try checkApplication(&reader) }
        case .rsa:
            guard let exponent = reader.string(), let e = positiveInteger(exponent), e.count <= 8, e.last! & 1 == 1, e != [1] else {
                throw SSHPublicKeyError(.keySize, "the RSA public exponent is not an odd number of at most 64 bits above 1")
            }
            guard let modulus = reader.string(), let n = positiveInteger(modulus), n.last! & 1 == 1 else {
                throw SSHPublicKeyError(.keySize, "the RSA modulus is not a positive odd number")
            }
            let bits = n.count * 8 - n.first!.leadingZeroBitCount
            guard (1024...16384).contains(bits) else {
                throw SSHPublicKeyError(.keySize, "the RSA modulus has \(bits) bits; a host key has 1024 to 16384")
            }
        case .ecdsaP256, .ecdsaP384, .ecdsaP521, .skECDSAP256:
            let (curve, size): (String, Int) =
                switch type {
                case .ecdsaP384: ("nistp384", 97)
                case .ecdsaP521: ("nistp521", 133)
                default: ("nistp256", 65)
                }
            guard let name = reader.string(), name.elementsEqual(curve.utf8) else {
                throw SSHPublicKeyError(.blob, "the \(type.rawValue) key does not name curve \(curve)")
            }
            guard let point = reader.string(), point.count == size, point.first == 0x04 else {
                throw SSHPublicKeyError(.keySize, "the \(type.rawValue) key is not an uncompressed \(curve) point of \(size) bytes")
            }
            if type == .skECDSAP256 { try checkApplication(&reader) }
        }
        guard reader.isAtEnd else { throw SSHPublicKeyError(.blob, "the key data has bytes after the \(type.rawValue) key") }
    }

    /// A security key's application string (`ssh:` by default): printable ASCII.
    private static func checkApplication(_ reader: inout SSHWireReader) throws(SSHPublicKeyError) {
        guard let application = reader.string(), !application.isEmpty, application.count <= 256,
            application.allSatisfy({ $0 >= 0x21 && $0 < 0x7F })
        else {
            throw SSHPublicKeyError(.blob, "the security key's application is missing or not printable ASCII")
        }
    }

    /// The magnitude of an SSH `mpint`, when it is positive and minimally encoded.
    private static func positiveInteger(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard let first = bytes.first, first & 0x80 == 0 else { return nil }
        if first == 0 {
            guard bytes.count > 1, bytes[bytes.startIndex + 1] & 0x80 != 0 else { return nil }
            return bytes.dropFirst()
        }
        return bytes
    }
}

/// Why a text is not an acceptable SSH public key line.
public struct SSHPublicKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem.
    public enum Code: String, Sendable, Hashable {
        /// Not one line of `TYPE BASE64 [COMMENT]` in printable ASCII.
        case format = "key-format"
        /// The type is not one of ``SSHPublicKey/KeyType``.
        case unknownType = "key-type"
        /// The key data is not canonical base64.
        case base64 = "key-base64"
        /// The key data is not an SSH wire blob of the line's type.
        case blob = "key-blob"
        /// The key in the blob has the wrong size for its type.
        case keySize = "key-size"
    }

    /// The kind of problem.
    public var code: Code
    /// What is wrong, for a person.
    public var reason: String

    init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }
}

/// Reads the length-prefixed strings of the SSH wire format (RFC 4251 section 5).
struct SSHWireReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { index == bytes.count }

    mutating func string() -> ArraySlice<UInt8>? {
        guard bytes.count - index >= 4 else { return nil }
        let length = bytes[index..<(index + 4)].reduce(0) { $0 << 8 | Int($1) }
        guard length <= bytes.count - index - 4 else { return nil }
        let start = index + 4
        index = start + length
        return bytes[start..<index]
    }
}

/// Writes the length-prefixed strings of the SSH wire format.
struct SSHWireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func string(_ value: [UInt8]) {
        let count = UInt32(value.count)
        bytes += [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
        bytes += value
    }
}
