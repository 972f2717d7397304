import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// Runs `body` with another session on the test's chroot, closing it afterwards (even on a throw).
func withOtherClient<T: Sendable>(
    _ context: TestContext,
    _ adjust: (inout ZooKeeperConfiguration) -> Void = { _ in },
    _ body: (ZooKeeperClient) async throws -> T
) async throws -> T {
    let other = try await context.newClient(adjust)
    do {
        let result = try await body(other)
        await other.close()
        return result
    } catch {
        await other.close()
        throw error
    }
}

/// The ZooKeeper error code `body` throws, or nil if it succeeds (any other error fails the test).
func zkErrorCode(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> ZooKeeperError.Code? {
    do {
        try await body()
        return nil
    } catch let error as ZooKeeperError {
        return error.code
    } catch {
        Issue.record("expected a ZooKeeperError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Collects a persistent watch's events from a background task, for bounded waits on them.
final class EventLog: Sendable {
    private let events = Mutex<[WatchedEvent]>([])
    private let end = Mutex<Result<Void, any Error>?>(nil)

    var snapshot: [WatchedEvent] { events.withLock { $0 } }
    /// How the sequence ended, once it has.
    var ending: Result<Void, any Error>? { end.withLock { $0 } }

    /// Starts consuming `watch`; cancelling the returned task ends the iteration.
    static func collecting(_ watch: PersistentWatch) -> (EventLog, Task<Void, Never>) {
        let log = EventLog()
        let task = Task {
            do {
                for try await event in watch { log.events.withLock { $0.append(event) } }
                log.end.withLock { $0 = .success(()) }
            } catch {
                log.end.withLock { $0 = .failure(error) }
            }
        }
        return (log, task)
    }

    /// Waits (bounded) until at least `count` events have arrived and returns them all.
    func waitFor(count: Int, within timeout: Duration = .seconds(10)) async throws -> [WatchedEvent] {
        try await eventually(within: timeout) { self.snapshot.count >= count }
        return snapshot
    }
}

extension WatchedEvent {
    static func synced(_ type: EventType, _ path: String) -> WatchedEvent {
        WatchedEvent(type: type, state: .syncConnected, path: path)
    }
}

/// Awaits a one-shot watch's event, bounded.
func awaitEvent(_ watch: OneShotWatch, within timeout: Duration = .seconds(10)) async throws -> WatchedEvent {
    try await withTimeout(timeout) { try await watch.event() }
}
