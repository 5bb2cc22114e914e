#if canImport(Glibc)
import Glibc
#endif

/// Gives memory freed by the allocator back to the system.
///
/// glibc keeps freed memory in per-thread arenas; after many streams end (each held buffers on its own event
/// loop thread), the broker's resident size would stay at its peak although nothing uses that memory. Called
/// when the last stream closes, so a burst of readers leaves no lasting footprint. (`malloc_trim` is glibc's,
/// looked up at run time: the C library module does not declare it, and other C libraries lack it.)
enum FreeMemory {
    private typealias Trim = @convention(c) (Int) -> Int32

    private static let trim: Trim? = {
        #if canImport(Glibc)
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
        #else
        return nil
        #endif
    }()

    static func returnToSystem() {
        _ = trim?(0)
    }
}
