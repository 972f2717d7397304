import Foundation
import Synchronization
import Testing
import ZooKeeperPOSIX
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// The follower's two writers on one leader connection: order kept, nothing written before the follower
/// serves, nothing after it stopped, and what a full socket did not take is finished by the follower thread.
@Suite struct LeaderWireTests {
    /// A connected loopback pair: (our end, the leader's end).
    static func connectedPair() throws -> (Socket, Socket) {
        let listener = try Socket.listen(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let port = try #require(listener.localAddress?.port)
        let address = try #require(try SocketAddress.resolve(host: "127.0.0.1", port: port).first)
        let ours = try Socket.connect(to: address, timeout: .seconds(5))
        #expect(try Poller.waitFor(fd: listener.fd, events: Poller.readable, timeout: .seconds(5)))
        let theirs = try #require(try listener.accept())
        return (ours, theirs)
    }

    /// Reads packets from `socket` until `count` arrived (bounded).
    static func read(_ count: Int, from socket: Socket) throws -> [QuorumPacket] {
        var reader = QuorumPacketReader()
        var packets: [QuorumPacket] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let deadline = ContinuousClock.now + .seconds(10)
        while packets.count < count {
            let left = deadline - ContinuousClock.now
            guard left > .zero, try Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: left) else {
                Issue.record("only \(packets.count) of \(count) packets arrived")
                return packets
            }
            if case let .bytes(n) = try socket.read(into: &buffer) { reader.append(buffer[0..<n]) }
            while case let .packet(packet)? = try reader.next() { packets.append(packet) }
        }
        return packets
    }

    static func request(_ n: Int64) -> QuorumPacket { QuorumPacket(type: QuorumPacketType.request.rawValue, zxid: n, data: [1, 2, 3]) }

    @Test func postsWaitUntilServingThenGoStraightOut() throws {
        let (ours, leader) = try Self.connectedPair()
        defer { ours.close(); leader.close() }
        let wire = LeaderWire()
        wire.attach(ours)
        #expect(wire.post(Self.request(1)) == .left, "not serving yet: queued for the follower thread")
        try wire.write([QuorumPacket(.ack, zxid: 7)], timeout: .seconds(5))
        try wire.startDirect(timeout: .seconds(5))
        #expect(wire.post(Self.request(2)) == .written)
        try wire.write([QuorumPacket(.ack, zxid: 8)], timeout: .seconds(5))
        let packets = try Self.read(4, from: leader)
        #expect(packets.map(\.zxid) == [7, 1, 2, 8], "the handshake's own writes first, then posts in order")
    }

    @Test func aFullSocketLeavesTheRestToTheFollowerThread() throws {
        let (ours, leader) = try Self.connectedPair()
        defer { ours.close(); leader.close() }
        let wire = LeaderWire()
        wire.attach(ours)
        try wire.startDirect(timeout: .seconds(5))
        // Large requests until the kernel's buffers are full (the leader reads nothing meanwhile).
        let big = QuorumPacket(type: QuorumPacketType.request.rawValue, zxid: 0, data: [UInt8](repeating: 9, count: 256 * 1024))
        var posted = 0
        while posted < 400, wire.post(big) == .written { posted += 1 }
        #expect(posted < 400, "the socket never filled")
        #expect(wire.post(Self.request(99)) == .left, "behind what is pending, in order")
        // The follower thread's flush finishes once the leader reads. A thread of its own: this test blocks
        // its own thread reading, and a task could wait for a pool thread that loaded runs never free.
        let flushed = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        let follower = Thread {
            do { try wire.flush(timeout: .seconds(20)) } catch { failure.withLock { $0 = "\(error)" } }
            flushed.signal()
        }
        follower.start()
        let packets = try Self.read(posted + 2, from: leader)
        try #require(packets.count == posted + 2)
        #expect(packets.last?.zxid == 99)
        #expect(flushed.wait(timeout: .now() + 20) == .success, "the follower thread's flush never returned")
        #expect(failure.withLock { $0 } == nil)
    }

    @Test func afterDetachPostsAreRefused() throws {
        let (ours, leader) = try Self.connectedPair()
        defer { ours.close(); leader.close() }
        let wire = LeaderWire()
        wire.attach(ours)
        try wire.startDirect(timeout: .seconds(5))
        wire.detach()
        #expect(wire.post(Self.request(1)) == .refused)
    }
}
