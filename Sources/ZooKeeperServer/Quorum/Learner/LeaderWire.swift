import Synchronization
import ZooKeeperPOSIX
import ZooKeeperProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A follower's connection to its leader as its two writers see it. The follower thread writes ACKs, PING
/// replies and the handshake; once the follower serves, the pipeline thread writes its forwarded requests
/// (and REVALIDATEs) itself instead of handing them to the follower thread — that hand-off was ~25 µs of a
/// forwarded write's latency. Bytes the socket does not take at once wait in `pending`, in order, and the
/// follower thread (woken for it) writes them before anything else.
final class LeaderWire: Sendable {
    private struct State {
        var socket: Socket?
        /// Whether other threads write directly (the follower serves).
        var direct = false
        /// Posted before the follower serves (nil once it has stopped: posts are refused).
        var queued: [QuorumPacket]? = []
        var pending: [UInt8] = []

        /// Writes what the socket takes now, without waiting.
        mutating func drain() throws(SocketError) {
            guard let socket, !pending.isEmpty else { return }
            var offset = 0
            while offset < pending.count {
                let count = try socket.write(pending, from: offset)
                if count == 0 { break }
                offset += count
            }
            pending.removeFirst(offset)
        }
    }

    enum Posted: Equatable {
        /// The follower no longer serves (or never will): the caller drops its client.
        case refused
        /// On the wire.
        case written
        /// Waiting for the follower thread (queued before serving, or the socket was full): wake it.
        case left
    }

    private let state = Mutex(State())

    init() {}

    /// The follower thread's socket, for its own writes.
    func attach(_ socket: Socket) { state.withLock { $0.socket = socket } }

    /// Any thread: sends `packet` now if the follower serves, else queues it for the follower thread.
    func post(_ packet: QuorumPacket) -> Posted {
        state.withLock { state -> Posted in
            guard state.queued != nil else { return .refused }
            guard state.direct else {
                state.queued!.append(packet)
                return .left
            }
            var writer = JuteWriter()
            writer.write(packet)
            state.pending += writer.bytes
            // An error is the follower thread's to find: its next write or read fails the same way.
            try? state.drain()
            return state.pending.isEmpty ? .written : .left
        }
    }

    /// Follower thread, once serving: what was queued goes first, then other threads write directly.
    func startDirect(timeout: Duration) throws(SocketError) {
        try flush(timeout: timeout)
        state.withLock { $0.direct = true }
    }

    /// Follower thread: what other threads left, and anything queued before serving.
    func flush(timeout: Duration) throws(SocketError) {
        let queued = state.withLock { state -> [QuorumPacket] in
            defer { if state.queued != nil { state.queued = [] } }
            return state.queued ?? []
        }
        try write(queued, timeout: timeout)
    }

    /// Follower thread: `packets` in one write, after whatever is pending; waits up to `timeout` for the
    /// socket to take everything.
    func write(_ packets: [QuorumPacket], timeout: Duration) throws(SocketError) {
        var writer = JuteWriter()
        for packet in packets { writer.write(packet) }
        let bytes = writer.bytes
        let deadline = ContinuousClock.now + timeout
        var (socket, done) = try state.withLock { state throws(SocketError) -> (Socket?, Bool) in
            state.pending += bytes
            try state.drain()
            return (state.socket, state.pending.isEmpty)
        }
        while !done, let fd = socket?.fd {
            let left = deadline - ContinuousClock.now
            guard left > .zero, try Poller.waitFor(fd: fd, events: Int16(POLLOUT), timeout: left) else {
                throw .timedOut(operation: "write")
            }
            (socket, done) = try state.withLock { state throws(SocketError) -> (Socket?, Bool) in
                try state.drain()
                return (state.socket, state.pending.isEmpty)
            }
        }
    }

    /// Follower thread, before it closes the socket: nobody writes to it (or to a reused descriptor) again.
    func detach() {
        state.withLock { state in
            state.socket = nil
            state.direct = false
            state.queued = nil
            state.pending = []
        }
    }
}
