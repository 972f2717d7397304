/// Runs `body`, then `cleanUp`, whether `body` returns or throws: the async `defer` Swift lacks, for
/// fixtures that must be stopped before a test returns.
public func withCleanup<T>(
    _ cleanUp: () async -> Void,
    isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> T
) async rethrows -> T {
    let result: T
    do {
        result = try await body()
    } catch {
        await cleanUp()
        throw error
    }
    await cleanUp()
    return result
}
