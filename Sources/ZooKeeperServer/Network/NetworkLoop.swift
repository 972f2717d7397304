import Foundation
import Synchronization
import ZooKeeperPOSIX
import ZooKeeperProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server's network thread: accepts connections, cuts input into frames for the pipeline, and
/// writes the pipeline's replies. One thread, `poll(2)` over the listener, the connections and a
/// wake-up pipe. Sockets are read and closed by this thread only; a small release of replies is written
/// by the pipeline itself (``submit(_:)``, ``ConnectionOutput``).
final class NetworkLoop: Sendable {
    struct Limits: Sendable {
        var maxFrameLength: Int
        /// Most connections from one address; 0 = unlimited.
        var maxClientConnections: Int
    }

    /// Replies queued for one connection above which it is no longer read.
    static let maxPendingOutput = 4 << 20

    private let listener: Socket
    private let limits: Limits
    private let deliver: @Sendable ([NetworkEvent]) -> Void
    private let wakeup: WakeupPipe
    /// What ``submit(_:)`` leaves to this thread: closes (replies go straight to ``ConnectionOutput``).
    private enum Closing {
        /// Close once the queued output is written.
        case afterFlush(UInt64)
        /// Drop at once, queued output discarded.
        case now(UInt64)
    }
    private let mailbox = Mutex<(closes: [Closing], stop: Bool)>(([], false))
    /// The open connections' outputs, for ``submit(_:)`` on the pipeline's thread.
    private let outputs = Mutex<[UInt64: ConnectionOutput]>([:])
    /// A release of replies for at most this many connections and bytes is written by the caller of
    /// ``submit(_:)`` (the pipeline) when their sockets have nothing queued; a larger one is left to this
    /// thread, so the pipeline (the busier thread under load) does not spend its time in `send` when
    /// clients are busy.
    static let directWriteConnections = 2
    static let directWriteBytes = 4096
    private let thread = ServiceThread()
    /// Listening port (resolved when bound to port 0).
    let port: Int
    let host: String

    init(listener: Socket, limits: Limits, deliver: @escaping @Sendable ([NetworkEvent]) -> Void) throws {
        self.listener = listener
        self.limits = limits
        self.deliver = deliver
        self.wakeup = try WakeupPipe()
        self.port = listener.localAddress?.port ?? 0
        self.host = listener.localAddress?.host ?? "?"
    }

    func start() {
        thread.start(name: "zookeeper-server-network") { [self] in run() }
    }

    /// Queues replies and closes (any thread). The replies of one call leave in one write per connection;
    /// for a few connections that write is done here, at once, when nothing is queued before it (a
    /// reply after a commit would otherwise wait for this thread to wake up: one more context switch per
    /// write). This thread is woken only for what is left: closes, aborts, bytes the kernel did not take.
    func submit(_ commands: [NetworkCommand]) {
        guard !commands.isEmpty else { return }
        var order: [UInt64] = []
        var bytes: [UInt64: [UInt8]] = [:]
        var closes: [Closing] = []
        var aborted: Set<UInt64> = []
        var closing: Set<UInt64> = []
        for command in commands {
            let id: UInt64, reply: [UInt8]
            switch command {
            case let .send(connection, bytes):
                (id, reply) = (connection, bytes)
            case let .close(connection):
                closing.insert(connection)
                closes.append(.afterFlush(connection))
                continue
            case let .abort(connection):
                aborted.insert(connection)
                closes.append(.now(connection))
                continue
            }
            // An abort drops what the same release queued for the connection (a lost reply, a black hole).
            guard !aborted.contains(id) else { continue }
            if bytes[id] == nil {
                order.append(id)
                bytes[id] = reply
            } else {
                bytes[id]! += reply
            }
        }
        order.removeAll { aborted.contains($0) }
        let writeNow = order.count <= Self.directWriteConnections
            && order.reduce(0) { $0 + bytes[$1]!.count } <= Self.directWriteBytes
        var wake = !closes.isEmpty
        if !order.isEmpty {
            let targets = outputs.withLock { outputs in order.map { outputs[$0] } }
            for (id, output) in zip(order, targets) {
                // A connection already gone drops its replies, as the network thread did.
                // A connection closing with this release gets its last bytes from this thread, after it stopped
                // reading it: written here, they could bring the client's next request in before the close.
                if output?.enqueue(bytes[id]!, writeNow: writeNow && !closing.contains(id)) == .pending { wake = true }
            }
        }
        guard wake else { return }
        if !closes.isEmpty { mailbox.withLock { $0.closes.append(contentsOf: closes) } }
        wakeup.wake()
    }

    /// Stops the thread, closing every connection and the listener; returns once it has exited.
    func stop() async {
        mailbox.withLock { $0.stop = true }
        wakeup.wake()
        await thread.waitUntilFinished()
    }

    private func run() {
        var connections: [UInt64: ServerConnection] = [:]
        var perHost: [String: Int] = [:]
        var nextID: UInt64 = 1
        var acceptResumesAt: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        func close(_ connection: ServerConnection, notify: Bool, events: inout [NetworkEvent]) {
            guard connections.removeValue(forKey: connection.id) != nil else { return }
            outputs.withLock { _ = $0.removeValue(forKey: connection.id) }
            connection.output.close()
            if let host = connection.remote?.host {
                perHost[host, default: 1] -= 1
                if perHost[host] == 0 { perHost[host] = nil }
            }
            if notify { events.append(.closed(connection: connection.id)) }
        }

        while true {
            var events: [NetworkEvent] = []
            let (closes, stopping) = mailbox.withLock { box -> ([Closing], Bool) in
                defer { box.closes = [] }
                return (box.closes, box.stop)
            }
            if stopping { break }
            for closing in closes {
                switch closing {
                case let .afterFlush(id):
                    if let connection = connections[id] {
                        connection.closeAfterFlush = true
                        connection.readClosed = true
                    }
                case let .now(id):
                    if let connection = connections[id] { close(connection, notify: true, events: &events) }
                }
            }
            for connection in Array(connections.values) where connection.closeAfterFlush || connection.output.pending > 0 {
                if !connection.output.flush() {
                    close(connection, notify: true, events: &events)
                } else if connection.closeAfterFlush && connection.output.pending == 0 {
                    connection.socket.shutdown()
                    close(connection, notify: true, events: &events)
                }
            }
            if !events.isEmpty { deliver(events); events = [] }

            // After a failed accept (e.g. out of file descriptors) the listener rests for a moment
            // instead of spinning on a socket that stays readable.
            let acceptResting = acceptResumesAt.map { ContinuousClock.now < $0 } ?? false
            var fds = [pollfd(fd: wakeup.readFD, events: Poller.readable, revents: 0),
                       pollfd(fd: listener.fd, events: acceptResting ? 0 : Poller.readable, revents: 0)]
            let order = Array(connections.values)
            for connection in order {
                // Backpressure: a client that does not read its replies stops being read, so its
                // pipelined requests wait in its own socket buffers instead of our memory.
                let pending = connection.output.pending
                var interest: Int16 = connection.readClosed || pending > Self.maxPendingOutput ? 0 : Poller.readable
                if pending > 0 { interest |= Poller.writable }
                fds.append(pollfd(fd: connection.socket.fd, events: interest, revents: 0))
            }
            let wait = acceptResting ? acceptResumesAt.map { ContinuousClock.now.duration(to: $0) } : nil
            guard (try? Poller.poll(&fds, timeout: wait)) != nil else { continue }
            if fds[0].revents != 0 { wakeup.drain() }
            if fds[1].revents & Poller.readable != 0 {
                while true {
                    let accepted: Socket?
                    do { accepted = try listener.accept() } catch {
                        acceptResumesAt = .now + .milliseconds(100)
                        break
                    }
                    guard let socket = accepted else { break }
                    let host = socket.peerAddress?.host ?? "?"
                    if limits.maxClientConnections > 0, perHost[host, default: 0] >= limits.maxClientConnections {
                        // Apache: "Too many connections from /host - max is N" and the socket is closed.
                        socket.close()
                        continue
                    }
                    perHost[host, default: 0] += 1
                    let connection = ServerConnection(id: nextID, socket: socket, maxFrameLength: limits.maxFrameLength)
                    nextID += 1
                    connections[connection.id] = connection
                    outputs.withLock { $0[connection.id] = connection.output }
                }
            }
            for (index, connection) in order.enumerated() {
                let revents = fds[index + 2].revents
                guard revents != 0, connections[connection.id] != nil else { continue }
                if revents & Poller.writable != 0, !connection.output.flush() {
                    close(connection, notify: true, events: &events)
                    continue
                }
                guard revents & (Poller.readable | Poller.failed) != 0, !connection.readClosed else { continue }
                if !read(connection, buffer: &buffer, events: &events) {
                    close(connection, notify: true, events: &events)
                }
            }
            if !events.isEmpty { deliver(events) }
        }
        var events: [NetworkEvent] = []
        for connection in Array(connections.values) { close(connection, notify: true, events: &events) }
        listener.close()
        if !events.isEmpty { deliver(events) }
    }

    /// Reads what is available and turns it into events. Returns false when the connection must close.
    private func read(_ connection: ServerConnection, buffer: inout [UInt8], events: inout [NetworkEvent]) -> Bool {
        for _ in 0..<8 {
            let result: Socket.ReadResult
            do { result = try connection.socket.read(into: &buffer) } catch { return false }
            switch result {
            case .wouldBlock: return true
            case .endOfFile: return false
            case let .bytes(count):
                if connection.isFresh {
                    connection.isFresh = false
                    if count >= 4, let command = FourLetterWordCommands.command(from: buffer[0..<4]) {
                        connection.readClosed = true
                        events.append(.fourLetterWord(connection: connection.id, remote: connection.remote?.description ?? "?",
                                                      command: command))
                        return true
                    }
                }
                connection.decoder.append(buffer[0..<count])
                do {
                    while let frame = try connection.decoder.next() {
                        guard let event = decode(frame, on: connection) else { return false }
                        events.append(event)
                    }
                } catch {
                    return false  // frame length out of range: Apache closes the connection ("Len error")
                }
                if count < buffer.count { return true }
            }
        }
        return true
    }

    private func decode(_ frame: [UInt8], on connection: ServerConnection) -> NetworkEvent? {
        var reader = JuteReader(frame, maxLength: limits.maxFrameLength)
        if !connection.sawConnectRequest {
            connection.sawConnectRequest = true
            guard let request = try? ConnectRequest(from: &reader) else { return nil }
            // Old clients send no readOnly byte; Apache echoes it only if the client sent it.
            let sentReadOnly = frame.count > 44
            return .connect(connection: connection.id, remote: connection.remote?.description ?? "?",
                            request: request, sentReadOnlyFlag: sentReadOnly)
        }
        guard let header = try? RequestHeader(from: &reader) else { return nil }
        return .request(connection: connection.id, header: header, body: reader.readRemaining(), receivedAt: .now)
    }
}
