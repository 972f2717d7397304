import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// The batch: held in order, released whole only when asked (after durability), latencies measured then.
struct SyncProcessorTests {
    static func connections(_ commands: [NetworkCommand]) -> [String] {
        commands.map {
            switch $0 {
            case let .send(connection, bytes): "send \(connection) \(bytes)"
            case let .close(connection): "close \(connection)"
            case let .abort(connection): "abort \(connection)"
            }
        }
    }

    @Test func nothingLeavesUntilTheReleaseThenEverythingInOrder() {
        var sync = SyncProcessor()
        sync.hold(.send(connection: 1, bytes: [1]))  // a notification
        sync.hold(.send(connection: 2, bytes: [2]))  // the write's reply
        sync.hold(.close(connection: 2))
        #expect(sync.held.count == 3)
        let release = sync.release(now: .now)
        #expect(Self.connections(release.commands) == ["send 1 [1]", "send 2 [2]", "close 2"])
        #expect(sync.held.isEmpty)
        #expect(sync.release(now: .now).commands.isEmpty, "a batch leaves once")
    }

    @Test func latenciesEndAtTheReleaseTimeGivenAndKeepTheirKind() {
        var sync = SyncProcessor()
        let start = ContinuousClock.now
        sync.received(connection: 1, at: start, isUpdate: true)
        sync.received(connection: 2, at: start + .milliseconds(5), isUpdate: false)
        let release = sync.release(now: start + .milliseconds(12))
        #expect(release.latencies == [.init(connection: 1, milliseconds: 12, isUpdate: true),
                                      .init(connection: 2, milliseconds: 7, isUpdate: false)])
        #expect(release.commands.isEmpty)
        #expect(sync.release(now: start + .seconds(1)).latencies.isEmpty)
    }

    @Test func aFailedLogDiscardsTheBatch() {
        var sync = SyncProcessor()
        sync.hold(.send(connection: 1, bytes: [1]))
        sync.received(connection: 1, at: .now, isUpdate: true)
        sync.discard()
        let release = sync.release(now: .now)
        #expect(release.commands.isEmpty)
        #expect(release.latencies.isEmpty)
    }

    @Test func delayedBatchesLeaveWhenDueInReleaseOrder() {
        var sync = SyncProcessor()
        sync.delay([.send(connection: 1, bytes: [1])], until: 100)
        sync.delay([.send(connection: 1, bytes: [2])], until: 100)
        sync.delay([.close(connection: 1)], until: 150)
        #expect(sync.nextDue == 100)
        #expect(sync.due(now: 99).isEmpty)
        #expect(sync.due(now: 120).map(Self.connections) == [["send 1 [1]"], ["send 1 [2]"]])
        #expect(sync.nextDue == 150)
        #expect(sync.due(now: 200).map(Self.connections) == [["close 1"]])
        #expect(sync.nextDue == nil)
    }
}
