import Foundation
import MusterSystem
import Synchronization

/// Hands out loopback addresses (127.0.0.0/8 reaches this machine on Linux without any set-up) so that every
/// local node has an address of its own, and concurrent contexts on one machine never share one.
///
/// Addresses come in blocks of 254 (`127.A.B.1`–`127.A.B.254`). A block is claimed machine-wide by creating a
/// file named after it, exclusively, in a claims folder; the file holds the claiming process id, so a block
/// whose owner died can be taken over. Blocks are released when the launcher stops.
public final class LoopbackAddresses: Sendable {
    private let claimsFolder: String
    /// Claimed blocks by context, in order.
    private let blocks = Mutex<[String: [String]]>([:])

    /// Creates an allocator that claims blocks in `claimsFolder` (shared by every launcher on the machine).
    public init(claimsFolder: String = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-loopback-claims")) {
        self.claimsFolder = claimsFolder
    }

    /// The address of node number `index` (0-based, stable) of a context.
    public func address(context: String, index: Int) throws -> String {
        let block = try block(context: context, number: index / 254)
        return "\(block).\(index % 254 + 1)"
    }

    /// Releases every block of a context.
    public func release(context: String) {
        let claimed = blocks.withLock { $0.removeValue(forKey: context) ?? [] }
        for block in claimed { try? FileManager.default.removeItem(atPath: claimPath(block)) }
    }

    /// Releases every block this allocator holds.
    public func releaseAll() {
        let contexts = blocks.withLock { Array($0.keys) }
        for context in contexts { release(context: context) }
    }

    private func claimPath(_ block: String) -> String { (claimsFolder as NSString).appendingPathComponent(block) }

    private func block(context: String, number: Int) throws -> String {
        if let existing = blocks.withLock({ $0[context].flatMap { number < $0.count ? $0[number] : nil } }) {
            return existing
        }
        try FileManager.default.createDirectory(atPath: claimsFolder, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            // 127.0.x.x is left alone (127.0.0.1 is everyone's); A from 1 to 254, B any.
            let block = "127.\(Int.random(in: 1...254, using: &generator)).\(Int.random(in: 0...255, using: &generator))"
            if claim(block) {
                blocks.withLock { $0[context, default: []].append(block) }
                return block
            }
        }
        throw LaunchError("no free loopback address block (claims in \(claimsFolder))")
    }

    private func claim(_ block: String) -> Bool { ClaimFile.claim(claimPath(block)) }
}

/// A launcher failure, with a message for the operator.
public struct LaunchError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
