import Testing
import ZooKeeperProtocol
@testable import ZooKeeperClient

@Suite("Watch registry: which watches an event triggers, and SetWatches batching")
struct WatchRegistryTests {
    private func event(_ type: EventType, _ path: String) -> WatcherEvent {
        WatcherEvent(type: type.rawValue, state: KeeperState.syncConnected.rawValue, path: path)
    }

    private func sink() -> (PersistentSink, AsyncThrowingStream<WatchedEvent, any Error>) {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: WatchedEvent.self, throwing: (any Error).self)
        return (PersistentSink(id: UInt64.random(in: 0...UInt64.max), continuation: continuation), stream)
    }

    @Test("data and exist watches fire on changes; child watches on children; deletion fires all three")
    func materialize() {
        var registry = WatchRegistry()
        let data = OneShotWatchBox(), exist = OneShotWatchBox(), child = OneShotWatchBox()
        registry.add(data, kind: .data, path: "/a")
        registry.add(exist, kind: .exist, path: "/a")
        registry.add(child, kind: .child, path: "/a")
        #expect(registry.trigger(event(.nodeChildrenChanged, "/a"), clientPath: "/a").count == 1)
        #expect(registry.trigger(event(.nodeChildrenChanged, "/a"), clientPath: "/a").isEmpty)  // one-shot
        registry.add(child, kind: .child, path: "/a")
        #expect(registry.trigger(event(.nodeDeleted, "/a"), clientPath: "/a").count == 3)
        #expect(registry.isEmpty)
    }

    @Test("recursive watches cover the subtree but never childrenChanged; persistent ones stay armed")
    func persistent() {
        var registry = WatchRegistry()
        let (recursive, _) = sink()
        let (exact, _) = sink()
        registry.add(recursive, kind: .persistentRecursive, path: "/r")
        registry.add(exact, kind: .persistent, path: "/r/x")
        #expect(registry.trigger(event(.nodeCreated, "/r/x/y"), clientPath: "/r/x/y").count == 1)
        #expect(registry.trigger(event(.nodeDataChanged, "/r/x"), clientPath: "/r/x").count == 2)
        #expect(registry.trigger(event(.nodeChildrenChanged, "/r/x"), clientPath: "/r/x").count == 1)
        #expect(registry.trigger(event(.nodeChildrenChanged, "/r"), clientPath: "/r").isEmpty)
        #expect(registry.trigger(event(.nodeDataChanged, "/other"), clientPath: "/other").isEmpty)
        #expect(registry.hasPersistentWatches)
        #expect(registry.paths(of: .persistentRecursive) == ["/r"])
    }

    @Test("SetWatches is split into packets of at most 128 KB of paths; SetWatches2 only with persistent watches")
    func batching() throws {
        var registry = WatchRegistry()
        let long = String(repeating: "x", count: 1000)
        for index in 0..<300 { registry.add(OneShotWatchBox(), kind: .data, path: "/\(long)\(index)") }
        var buffer: [UInt8] = []
        ClientCore.appendSetWatches(to: &buffer, watches: registry, relativeZxid: 42)
        var decoder = FrameDecoder(maximumLength: 1 << 20)
        decoder.append(buffer)
        var total = 0
        var frames = 0
        while let frame = try decoder.next() {
            var reader = JuteReader(frame, maxLength: 1 << 20)
            let header = try RequestHeader(from: &reader)
            #expect(header.xid == ReservedXid.setWatches && header.type == OpCode.setWatches.rawValue)
            let packet = try SetWatches(from: &reader)
            #expect(packet.relativeZxid == 42)
            let bytes = packet.dataWatches.reduce(0) { $0 + $1.utf8.count }
            #expect(bytes <= setWatchesMaxPathBytes)
            total += packet.dataWatches.count
            frames += 1
        }
        #expect(total == 300 && frames == 3)

        let (persistent, _) = sink()
        registry.add(persistent, kind: .persistent, path: "/p")
        buffer = []
        ClientCore.appendSetWatches(to: &buffer, watches: registry, relativeZxid: 7)
        decoder.append(buffer)
        var sawPersistent = false
        while let frame = try decoder.next() {
            var reader = JuteReader(frame, maxLength: 1 << 20)
            #expect(try RequestHeader(from: &reader).type == OpCode.setWatches2.rawValue)
            if try SetWatches2(from: &reader).persistentWatches == ["/p"] { sawPersistent = true }
        }
        #expect(sawPersistent)
    }
}
