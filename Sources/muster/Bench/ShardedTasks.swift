/// Runs many concurrent tasks (one per virtual agent), spread over the ``LoadShard``s (one per event loop), as
/// unstructured tasks awaited in turn, not as children of a task group: Swift's runtime walks a task group's list
/// of children whenever one of them finishes, which for thousands of children made the load generator's own CPU
/// grow with the square of the agents.
enum ShardedTasks {
    /// Runs `body(shard, index)` for every index in `0..<count` concurrently, isolated to shard `index % shards`;
    /// returns the results in index order. The first error thrown (in index order) is rethrown once every task has
    /// finished.
    static func run<T: Sendable>(count: Int, _ body: @escaping @Sendable (isolated LoadShard, Int) async throws -> T) async throws -> [T] {
        let shards = LoadShard.all()
        let tasks = (0..<count).map { index in
            let shard = shards[index % shards.count]
            return Task { try await body(shard, index) }
        }
        var results: [T] = []
        results.reserveCapacity(count)
        var failure: (any Error)?
        for task in tasks {
            do {
                results.append(try await task.value)
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return results
    }
}
