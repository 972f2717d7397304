import Synchronization
import ZooKeeperPOSIX

/// A client connection's socket and queued replies, shared by the network thread and the pipeline.
///
/// The pipeline writes a small release itself when nothing is queued: a reply that waited for a commit
/// (every write on an ensemble member) would otherwise wait once more, for the sleeping network thread to
/// wake up and write it. The network thread writes whatever is left when the socket is writable. The lock
/// keeps the two writers in order and makes closing the descriptor exclusive with writing to it, so a
/// write never reaches a closed (or reused) descriptor.
final class ConnectionOutput: Sendable {
    private struct State {
        var bytes: [UInt8] = []
        var offset = 0
        var closed = false
        /// A write failed (the peer reset, …): the network thread closes the connection.
        var failed = false
    }

    enum Outcome: Equatable {
        /// Everything queued is written.
        case written
        /// Bytes are left for the network thread (or the connection is closed or failed).
        case pending
    }

    let socket: Socket
    private let state = Mutex(State())

    init(socket: Socket) { self.socket = socket }

    /// Bytes queued and not yet written.
    var pending: Int { state.withLock { $0.bytes.count - $0.offset } }

    /// Queues `bytes` after what is queued; with `writeNow`, writes what the kernel takes at once if nothing
    /// was queued before (otherwise the network thread, which is already due to write, keeps the order).
    func enqueue(_ bytes: [UInt8], writeNow: Bool) -> Outcome {
        state.withLock { state in
            guard !state.closed, !state.failed else { return .pending }
            if state.offset == state.bytes.count {
                state.bytes = bytes
                state.offset = 0
                guard writeNow else { return .pending }
                Self.write(&state, socket)
                return state.offset == state.bytes.count && !state.failed ? .written : .pending
            }
            state.bytes.append(contentsOf: bytes)
            return .pending
        }
    }

    /// Writes what the kernel takes now. False if the socket failed (now or in an earlier write).
    func flush() -> Bool {
        state.withLock { state in
            guard !state.closed else { return true }
            if state.offset < state.bytes.count { Self.write(&state, socket) }
            return !state.failed
        }
    }

    /// Closes the descriptor; later writes are dropped.
    func close() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            state.bytes = []
            state.offset = 0
            socket.close()
        }
    }

    private static func write(_ state: inout State, _ socket: Socket) {
        do {
            state.offset += try socket.write(state.bytes, from: state.offset)
        } catch {
            state.failed = true
            return
        }
        if state.offset == state.bytes.count {
            state.bytes.removeAll(keepingCapacity: state.bytes.capacity <= 1 << 20)
            state.offset = 0
        }
    }
}
