import Testing
import ZooKeeperProtocol
@testable import ZooKeeperClient

/// The registry's bookkeeping for the server-side clean-up of dropped persistent watches.
@Suite("Watch registry: clean-up removals of dropped persistent watches")
struct WatchCleanUpTests {
    private func sink(_ id: UInt64) -> PersistentSink {
        PersistentSink(id: id, continuation: AsyncThrowingStream.makeStream(of: WatchedEvent.self, throwing: (any Error).self).continuation)
    }

    private func arm(_ registry: inout WatchRegistry, _ kind: WatchKind, _ box: OneShotWatchBox) {
        registry.settle(WatchRegistration(kind: kind, path: "/p", box: box, sink: nil), err: .ok)
    }

    @Test("the removal re-registers exactly the watches armed before its reply that are still armed")
    func reArmsWhatTheRemovalTook() throws {
        var registry = WatchRegistry()
        registry.settle(WatchRegistration(kind: .persistent, path: "/p", box: nil, sink: sink(1)), err: .ok)
        let data = OneShotWatchBox(), child = OneShotWatchBox(), later = OneShotWatchBox()
        arm(&registry, .data, data)  // armed before the removal was decided
        let dueMarker = registry.dropPersistent(id: 1, path: "/p")
        let marker = try #require(dueMarker)
        arm(&registry, .child, child)  // sent before the removal, answered after it was decided
        registry.settle(marker, err: .ok)  // the removal's reply
        arm(&registry, .exist, later)  // sent after the removal: untouched on the server
        // The child watch fires before the clean-up task runs: nothing to restore for it.
        _ = registry.trigger(WatcherEvent(type: EventType.nodeChildrenChanged.rawValue,
                                          state: KeeperState.syncConnected.rawValue, path: "/p"), clientPath: "/p")
        do { let result = registry.finishRemoval(marker); #expect(result == [.data]) }
        do { let result = registry.finishRemoval(marker); #expect(result.isEmpty) }  // once
    }

    @Test("no re-registration after a failed removal (noWatcher) or one that got no reply")
    func nothingWithoutASuccessfulReply() throws {
        var registry = WatchRegistry()
        registry.settle(WatchRegistration(kind: .persistent, path: "/p", box: nil, sink: sink(1)), err: .ok)
        arm(&registry, .data, OneShotWatchBox())
        let dueFailed = registry.dropPersistent(id: 1, path: "/p")
        let failed = try #require(dueFailed)
        registry.settle(failed, err: .noWatcher)
        do { let result = registry.finishRemoval(failed); #expect(result.isEmpty) }

        registry.settle(WatchRegistration(kind: .persistent, path: "/p", box: nil, sink: sink(2)), err: .ok)
        let dueLost = registry.dropPersistent(id: 2, path: "/p")
        let lost = try #require(dueLost)
        do { let result = registry.finishRemoval(lost); #expect(result.isEmpty) }  // connection lost: the reconnect restores every watch
    }

    @Test("a persistent watch dropped while an addWatch on its path is in flight is removed only if that one fails")
    func deferredBehindAddWatch() throws {
        var registry = WatchRegistry()
        registry.settle(WatchRegistration(kind: .persistent, path: "/p", box: nil, sink: sink(1)), err: .ok)
        registry.beginAddingPersistent("/p")
        do { let result = registry.dropPersistent(id: 1, path: "/p"); #expect(result == nil) }
        // It arms: the path is watched again, nothing to remove.
        registry.settle(WatchRegistration(kind: .persistent, path: "/p", box: nil, sink: sink(2)), err: .ok)
        do { let result = registry.endAddingPersistent("/p"); #expect(result == nil) }

        registry.beginAddingPersistent("/p")
        do { let result = registry.dropPersistent(id: 2, path: "/p"); #expect(result == nil) }
        // It fails: the old watch is still on the server and now due for removal.
        registry.settle(WatchRegistration(kind: .persistentRecursive, path: "/p", box: nil, sink: sink(3)), err: .noAuth)
        let dueMarker = registry.endAddingPersistent("/p")
        let marker = try #require(dueMarker)
        #expect(marker.kind == .removal && marker.path == "/p")
        // A second drop of the same sink is a no-op.
        do { let result = registry.dropPersistent(id: 2, path: "/p"); #expect(result == nil) }
    }
}
