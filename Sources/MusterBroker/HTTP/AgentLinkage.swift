import Foundation

/// Whether an agent binary can start on a stock Linux image: read from its ELF dynamic section (the libraries
/// it needs, as `ldd` would list them), never from its name.
///
/// An ordinary `swift build` links the Swift runtime (`libswiftCore.so`, `libFoundation.so`, …) dynamically from
/// the toolchain's folder; such an agent starts on the build machine but not on an image without Swift. Built
/// with `--static-swift-stdlib`, it needs only the C library.
public enum AgentLinkage: Sendable, Hashable {
    /// An ELF executable that needs no Swift runtime library: it starts on a stock image.
    case selfContained
    /// An ELF executable that needs these Swift runtime libraries: it starts only where they are installed.
    case needsSwiftRuntime([String])
    /// Not a 64-bit little-endian ELF file (a script, say): Muster cannot tell.
    case unknown

    /// The word `healthz` and the logs use: `static`, `dynamic` or `unknown`.
    public var word: String {
        switch self {
        case .selfContained: "static"
        case .needsSwiftRuntime: "dynamic"
        case .unknown: "unknown"
        }
    }

    /// Library names that belong to the Swift runtime and the toolchain's Foundation.
    static let runtimePrefixes = ["libswift", "libFoundation", "lib_Foundation", "libdispatch", "libBlocksRuntime"]

    /// Reads the linkage of the file at `path`.
    public init(path: String) {
        guard let file = ELFFile(path: path), let needed = file.neededLibraries() else {
            self = .unknown
            return
        }
        let runtime = needed.filter { name in Self.runtimePrefixes.contains { name.hasPrefix($0) } }
        self = runtime.isEmpty ? .selfContained : .needsSwiftRuntime(runtime)
    }
}

/// The few facts Muster reads from a 64-bit little-endian ELF file: its machine and the libraries it needs.
struct ELFFile {
    let path: String
    /// The ELF header (64 bytes).
    private let header: [UInt8]

    /// Reads the header of `path`; nil when it cannot be read or is not a 64-bit little-endian ELF file.
    init?(path: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let header = Self.read(handle, at: 0, count: 64), header.prefix(6).elementsEqual([0x7f, 0x45, 0x4c, 0x46, 2, 1]) else {
            return nil
        }
        self.path = path
        self.header = header
    }

    /// The architecture, as `uname -m` names it (`x86_64`, `aarch64`), or nil for another machine.
    var architecture: String? {
        switch Self.littleEndian(header, at: 18, size: 2) {
        case 62: "x86_64"
        case 183: "aarch64"
        default: nil
        }
    }

    /// The `DT_NEEDED` entries of the dynamic section; empty for a fully static executable, nil when the file
    /// is malformed.
    func neededLibraries() -> [String]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let tableOffset = Self.littleEndian(header, at: 0x28, size: 8)
        let entrySize = Self.littleEndian(header, at: 0x3a, size: 2)
        let count = Self.littleEndian(header, at: 0x3c, size: 2)
        guard entrySize >= 64 else { return nil }
        typealias Section = (type: UInt64, offset: UInt64, size: UInt64, link: UInt64)
        func section(_ index: UInt64) -> Section? {
            guard let bytes = Self.read(handle, at: tableOffset + index * entrySize, count: 64) else { return nil }
            return (
                Self.littleEndian(bytes, at: 4, size: 4), Self.littleEndian(bytes, at: 24, size: 8),
                Self.littleEndian(bytes, at: 32, size: 8), Self.littleEndian(bytes, at: 40, size: 4)
            )
        }
        let dynamicType: UInt64 = 6
        var found: Section?
        for index in 0..<count {
            guard let candidate = section(index) else { return nil }
            if candidate.type == dynamicType {
                found = candidate
                break
            }
        }
        // No dynamic section: a fully static executable needs nothing.
        guard let dynamic = found else { return [] }
        guard dynamic.size <= 1 << 20, let strings = section(dynamic.link), strings.size <= 16 << 20,
            let entries = Self.read(handle, at: dynamic.offset, count: Int(dynamic.size)),
            let table = Self.read(handle, at: strings.offset, count: Int(strings.size))
        else { return nil }
        var needed: [String] = []
        var position = 0
        while position + 16 <= entries.count {
            let tag = Self.littleEndian(entries, at: position, size: 8)
            let value = Self.littleEndian(entries, at: position + 8, size: 8)
            position += 16
            if tag == 0 { break }
            guard tag == 1 else { continue }
            guard value < UInt64(table.count) else { return nil }
            needed.append(String(decoding: table[Int(value)...].prefix { $0 != 0 }, as: UTF8.self))
        }
        return needed
    }

    private static func read(_ handle: FileHandle, at offset: UInt64, count: Int) -> [UInt8]? {
        guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.read(upToCount: count), data.count == count else {
            return nil
        }
        return [UInt8](data)
    }

    private static func littleEndian(_ bytes: [UInt8], at start: Int, size: Int) -> UInt64 {
        (0..<size).reduce(UInt64(0)) { value, index in value | UInt64(bytes[start + index]) << (8 * UInt64(index)) }
    }
}
