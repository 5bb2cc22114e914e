import NIOCore

extension EventLoopFuture where Value: Sendable {
    /// The future's value, awaited in the caller's isolation: a caller on a ``LoadShard`` resumes on its event
    /// loop, where the future completes, without a hop to another thread (`get()` resumes on Swift's pool).
    func value(isolation: isolated (any Actor)? = #isolation) async throws -> Value {
        try await withUnsafeThrowingContinuation { continuation in
            whenComplete { continuation.resume(with: $0) }
        }
    }
}
