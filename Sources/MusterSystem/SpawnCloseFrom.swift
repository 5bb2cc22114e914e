import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `posix_spawn_file_actions_addclosefrom_np`: a spawned child closes every descriptor from a number up, whatever
/// the parent holds without close-on-exec (SwiftNIO's sockets, Foundation's `FileHandle`s, another thread's files).
///
/// glibc has it since 2.34, but Swift's `Glibc` module does not import it; it is looked up once by name.
public enum SpawnCloseFrom {
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    private static let function: AddCloseFrom? = CLibrarySymbol.address("posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: AddCloseFrom.self)
    }

    /// Adds "close every descriptor from `lowest` up" to `actions`; false when the C library cannot (older than
    /// glibc 2.34) or refuses.
    @discardableResult
    public static func add(to actions: inout posix_spawn_file_actions_t, from lowest: Int32 = 3) -> Bool {
        guard let function else { return false }
        return function(&actions, lowest) == 0
    }
}
