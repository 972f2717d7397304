import ZooKeeperClient
import ZooKeeperRecipes

// The recipes-docs examples for the read/write lock, semaphore and multi-lock, compiled with the tests
// (never run: they stand for application code). Keep in sync with recipes-docs/*.md.
enum LockRecipeDocExamples {
    static func readCatalogue() async throws -> [String] { [] }
    static func rewriteCatalogue(fencedBy token: Int64) async throws {}
    static func crawl(token: Int64) async throws {}
    static func transfer() async throws {}

    // recipes-docs/read-write-lock.md
    static func readWriteLock(zk: ZooKeeperClient) async throws {
        let lock = DistributedReadWriteLock(client: zk, path: "/locks/catalogue")
        let snapshot = try await lock.readLock.withLock(timeout: .seconds(5)) { _ in try await readCatalogue() }
        try await lock.writeLock.withLock { lease in try await rewriteCatalogue(fencedBy: lease.fencingToken) }
        _ = snapshot
    }

    // recipes-docs/semaphore.md
    static func semaphore(zk: ZooKeeperClient) async throws {
        let crawlers = DistributedSemaphore(client: zk, path: "/semaphores/crawlers", maxLeases: 4)
        try await crawlers.withLease(timeout: .seconds(10)) { lease in try await crawl(token: lease.fencingToken) }

        let exclusive = DistributedSemaphoreMutex(client: zk, path: "/locks/report")   // not reentrant
        let both = DistributedMultiLock(client: zk, paths: ["/locks/a", "/locks/b"])   // in order, all or nothing
        try await both.withLock(timeout: .seconds(5)) { _ in try await transfer() }
        _ = exclusive
    }
}
