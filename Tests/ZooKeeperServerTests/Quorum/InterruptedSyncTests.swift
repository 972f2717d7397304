import Foundation
import Testing
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// A learner whose sync ends after the leader's SNAP and before NEWLEADER (the leader died, the link
/// broke): the snapshot it loaded was never written to its disk, so it must not go on from it — a DIFF
/// from the next leader would then be logged after a gap, and a restart would replay that log across the
/// gap, silently missing transactions. `EnsembleSimulation` found it (seed 1982 of 5 members).
@Suite(.serialized, .timeLimit(.minutes(1)))
struct InterruptedSyncTests {
    static func txn(_ zxid: Int64, _ path: String) -> LoggedTxn {
        LoggedTxn(
            header: TxnHeader(clientId: 0x51, cxid: 1, zxid: zxid, time: 1, type: OpCode.create.rawValue),
            body: .create(CreateTxn(path: path, data: [], acl: .openACLUnsafe, ephemeral: false, parentCVersion: -1)))
    }

    @Test func aSnapshotNeverPersistedIsNotWhereTheNextRoleStarts() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Our history on disk: two transactions of epoch 1.
        do {
            var (storage, _, epochs) = try QuorumStorage.open(dataDirectory: directory.path, preallocationSize: 64 << 10)
            try epochs.setAcceptedEpoch(1)
            try epochs.setCurrentEpoch(1)
            try storage.append([Self.txn(Zxid.make(epoch: 1, counter: 1), "/a"), Self.txn(Zxid.make(epoch: 1, counter: 2), "/b")])
            storage.close()
        }
        let (storage, database, epochs) = try QuorumStorage.open(dataDirectory: directory.path, preallocationSize: 64 << 10)
        #expect(database.lastProcessedZxid == Zxid.make(epoch: 1, counter: 2))

        // The leader's tree, further on.
        var leaderTree = ZooKeeperDatabase()
        for counter in Int64(1)...5 { leaderTree.replay(Self.txn(Zxid.make(epoch: 2, counter: counter), "/s\(counter)")) }

        let listener = try Socket.listen(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let leader = QuorumServer(id: 1, host: "127.0.0.1", quorumPort: listener.localAddress!.port, electionPort: try SocketHelpers.freeLoopbackPort())
        let follower = try FollowerDriver(
            settings: .init(myID: 2, leader: leader, tickTime: .milliseconds(200), initLimit: 10, syncLimit: 5, configString: ""),
            database: database, epochs: epochs, storage: storage)
        let following = Task { [follower] in await follower.run() }

        // The scripted leader: discovery, then SNAP with its stream, then it is gone before NEWLEADER.
        let connection = try await Self.accept(listener)
        var reader = QuorumPacketReader()
        let info = try await Self.next(&reader, from: connection)
        #expect(info.kind == .followerInfo)
        var leaderInfo = JuteWriter()
        leaderInfo.write(QuorumPacket.protocolVersion)
        try Self.send(QuorumPacket(.leaderInfo, zxid: Zxid.make(epoch: 3, counter: 0), data: leaderInfo.bytes), on: connection)
        let ackEpoch = try await Self.next(&reader, from: connection)
        #expect(ackEpoch.kind == .ackEpoch && ackEpoch.zxid == Zxid.make(epoch: 1, counter: 2))
        var snap = JuteWriter()
        snap.write(QuorumPacket(.snap, zxid: leaderTree.lastProcessedZxid))
        try Self.write(snap.bytes + SnapshotStream.encode(leaderTree), on: connection)
        try await eventually(within: .seconds(10)) { follower.withDatabase { $0.lastProcessedZxid } == leaderTree.lastProcessedZxid }
        connection.close()

        let exit = await following.value
        #expect(exit.reason.contains("closed"), "\(exit.reason)")
        // The next role starts from the disk's history, not from the snapshot it never persisted.
        let (next, _) = try #require(follower.finalState(returned: nil))
        #expect(next.lastProcessedZxid == Zxid.make(epoch: 1, counter: 2))
        #expect(next.tree.node("/b") != nil && next.tree.node("/s1") == nil)
        // And the log goes on right after it: a restart recovers the same history.
        try storage.append([Self.txn(Zxid.make(epoch: 1, counter: 3), "/c")])
        storage.close()
        let (_, recovered, _) = try QuorumStorage.open(dataDirectory: directory.path, preallocationSize: 64 << 10)
        #expect(recovered.lastProcessedZxid == Zxid.make(epoch: 1, counter: 3) && recovered.tree.node("/c") != nil)
    }

    static func accept(_ listener: Socket) async throws -> Socket {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let socket = try listener.accept() { return socket }
            _ = try Poller.waitFor(fd: listener.fd, events: Poller.readable, timeout: .milliseconds(100))
        }
        throw TimeoutError(duration: .seconds(10), what: "the follower's connection")
    }

    static func next(_ reader: inout QuorumPacketReader, from socket: Socket) async throws -> QuorumPacket {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if case let .packet(packet)? = try reader.next() { return packet }
            switch try socket.read(into: &buffer) {
            case let .bytes(count): reader.append(buffer[0..<count])
            case .wouldBlock: _ = try Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: .milliseconds(100))
            case .endOfFile: throw TimeoutError(duration: .zero, what: "a packet: the follower closed the connection")
            }
        }
        throw TimeoutError(duration: .seconds(10), what: "a packet from the follower")
    }

    static func send(_ packet: QuorumPacket, on socket: Socket) throws {
        var writer = JuteWriter()
        writer.write(packet)
        try write(writer.bytes, on: socket)
    }

    static func write(_ bytes: [UInt8], on socket: Socket) throws {
        var offset = 0
        while offset < bytes.count {
            offset += try socket.write(bytes, from: offset)
            if offset < bytes.count { _ = try Poller.waitFor(fd: socket.fd, events: Poller.writable, timeout: .seconds(1)) }
        }
    }
}
