#if canImport(Glibc)
import Glibc
#endif

/// A C library function looked up by name at run time: for glibc extensions Swift's `Glibc` module does not import
/// (`malloc_trim`, `posix_spawn_file_actions_addclosefrom_np`), absent from other C libraries.
public enum CLibrarySymbol {
    /// The address of the function `name` in this process, or nil when no loaded library has it.
    public static func address(_ name: String) -> UnsafeMutableRawPointer? {
        #if canImport(Glibc)
        return dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)  // RTLD_DEFAULT
        #else
        return nil
        #endif
    }
}
