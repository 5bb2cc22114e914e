#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files, which bounds how many connections a broker can hold.
public enum OpenFilesLimit {
    /// Raises the soft limit to the hard limit (an unprivileged process may) and returns the soft limit now in
    /// force, or `nil` when it cannot be read.
    @discardableResult
    public static func raiseToHardLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }

    /// The connections a broker can hold within `openFiles`, keeping ``BrokerLimits/reservedFiles`` for everything else.
    static func connections(within openFiles: Int?, wanted: Int) -> Int {
        guard let openFiles else { return wanted }
        return max(1, min(wanted, openFiles - BrokerLimits.reservedFiles))
    }
}
