import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperTestSupport

@Suite("Reentrancy is scoped to the outermost withLock", .timeLimit(.minutes(1)))
struct ReentrancyScopeTests {
    @Test("a Task {} started inside a body inherits the hold but cannot keep the lock after the body returns")
    func unstructuredTaskCannotOutliveTheHold() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path = ZNodePath("/reentrancy/scoped")
                let mutex = DistributedMutex(client: clients[0], path: path)
                let (entered, enteredSignal) = AsyncStream.makeStream(of: Void.self)
                let escaped = Mutex<Task<Void, any Error>?>(nil)
                try await mutex.withLock { _ in
                    let task = Task {
                        // Inherits the task-local hold: reentrant, no second node.
                        try await mutex.withLock { _ in
                            enteredSignal.yield()
                            try await suspendUntilCancelled()
                        }
                    }
                    escaped.withLock { $0 = task }
                    try await withTimeout(.seconds(10)) { for await _ in entered { return } }
                }
                // Before: the escaped task's hold kept the node; the other session timed out.
                let other = try await DistributedMutex(client: clients[1], path: path).acquire(timeout: .seconds(5))
                try await other.release()
                let task = try #require(escaped.withLock { $0 })
                let outcome = await task.result
                guard case .failure(let error) = outcome, error as? LockError == .leaseLost else {
                    Issue.record("the escaped task's withLock ended with \(outcome), not leaseLost")
                    return
                }
            }
        }
    }

    @Test("a nested acquire() never released inside the body does not keep the lock past the body")
    func forgottenNestedAcquireEndsWithTheBody() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path = ZNodePath("/reentrancy/forgotten")
                let mutex = DistributedMutex(client: clients[0], path: path)
                try await mutex.withLock { _ in _ = try await mutex.acquire() }
                let other = try await DistributedMutex(client: clients[1], path: path).acquire(timeout: .seconds(5))
                try await other.release()
            }
        }
    }
}
