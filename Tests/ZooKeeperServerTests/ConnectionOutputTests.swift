#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import ZooKeeperPOSIX
@testable import ZooKeeperServer

/// The output both the pipeline and the network thread write to: bytes leave in the order they were
/// queued whoever writes them, a failed socket is reported, a closed one is never written to.
@Suite struct ConnectionOutputTests {
    /// A connected, non-blocking stream pair: (ours, the peer's descriptor).
    static func pair() throws -> (Socket, Int32) {
        var fds: [Int32] = [0, 0]
        #if canImport(Glibc)
        let type = Int32(SOCK_STREAM.rawValue)
        #else
        let type = SOCK_STREAM
        #endif
        try #require(socketpair(AF_UNIX, type, 0, &fds) == 0)
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return (Socket(fd: fds[0]), fds[1])
    }

    /// Everything the peer can read now.
    static func drain(_ fd: Int32) -> [UInt8] {
        var all: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return all }
            all += buffer[0..<count]
        }
    }

    @Test func aSmallReplyIsWrittenAtOnceWhenNothingIsQueued() throws {
        let (socket, peer) = try Self.pair()
        defer { close(peer) }
        let output = ConnectionOutput(socket: socket)
        defer { output.close() }
        #expect(output.enqueue([1, 2, 3], writeNow: true) == .written)
        #expect(output.pending == 0)
        #expect(Self.drain(peer) == [1, 2, 3])
        // Without writeNow it waits for the network thread's flush.
        #expect(output.enqueue([4], writeNow: false) == .pending)
        #expect(Self.drain(peer).isEmpty)
        #expect(output.flush())
        #expect(Self.drain(peer) == [4])
    }

    @Test func bytesLeaveInTheOrderTheyWereQueuedWhenTheSocketIsFull() throws {
        let (socket, peer) = try Self.pair()
        defer { close(peer) }
        let output = ConnectionOutput(socket: socket)
        defer { output.close() }
        // More than the socket buffers hold: part of it stays queued.
        let big = (0..<4_000_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        #expect(output.enqueue(big, writeNow: true) == .pending)
        #expect(output.pending > 0)
        // A later small reply must not jump the queue, even asked to write now.
        #expect(output.enqueue([7, 7, 7], writeNow: true) == .pending)
        var received: [UInt8] = []
        for _ in 0..<10_000 where received.count < big.count + 3 {
            received += Self.drain(peer)
            #expect(output.flush())
        }
        received += Self.drain(peer)
        #expect(received.count == big.count + 3)
        #expect(Array(received.prefix(big.count)) == big)
        #expect(Array(received.suffix(3)) == [7, 7, 7])
        #expect(output.pending == 0)
    }

    @Test func aFailedWriteIsReportedByTheNextFlush() throws {
        let (socket, peer) = try Self.pair()
        let output = ConnectionOutput(socket: socket)
        defer { output.close() }
        close(peer)
        #expect(output.enqueue([1], writeNow: true) == .pending)
        #expect(!output.flush())
        #expect(output.enqueue([2], writeNow: true) == .pending, "nothing more is written to a failed socket")
    }

    @Test func aClosedOutputWritesNothing() throws {
        let (socket, peer) = try Self.pair()
        defer { close(peer) }
        let output = ConnectionOutput(socket: socket)
        #expect(output.enqueue([1], writeNow: false) == .pending)
        output.close()
        #expect(output.pending == 0, "queued bytes are dropped with the descriptor")
        #expect(output.enqueue([2], writeNow: true) == .pending)
        #expect(output.flush())
        #expect(Self.drain(peer).isEmpty)
        output.close()  // twice is harmless: the descriptor is closed once
    }
}
