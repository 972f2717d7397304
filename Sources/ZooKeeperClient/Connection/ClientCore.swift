import Synchronization
import ZooKeeperPOSIX
import ZooKeeperProtocol

/// An `addAuth` whose reply has not arrived yet; `added`: it put `info` on the list replayed on reconnect.
struct PendingAuth: Sendable {
    let waiter: ReplyWaiter
    let info: AuthInfo
    let added: Bool
}

/// A request sent (or queued to be sent) whose reply has not arrived yet.
struct PendingRequest: Sendable {
    let xid: Int32
    let opCode: OpCode
    let waiter: ReplyWaiter
    let watch: WatchRegistration?
    /// When it was queued: its reply proves the server heard from us at or after this instant.
    let enqueuedAt: ContinuousClock.Instant
}

/// A watch to arm when a request's reply arrives with the right result.
struct WatchRegistration: Sendable {
    let kind: WatchKind
    /// Server path (chroot included).
    let path: String
    let box: OneShotWatchBox?
    let sink: PersistentSink?

    /// Java's rule: data/child watches arm on success; an exists watch also arms on noNode.
    func shouldArm(for err: ZooKeeperErrorCode) -> Bool {
        err == .ok || (kind == .exist && err == .noNode)
    }

    /// An `exists` that found the node arms a data watch, as in the Java client.
    func kindFor(_ err: ZooKeeperErrorCode) -> WatchKind {
        kind == .exist && err == .ok ? .data : kind
    }
}

/// Side effects computed under the lock and performed after it is released, in order.
enum CoreEffect: Sendable {
    case resume(ReplyWaiter, Result<RawReply, any Error>)
    case deliver(WatchDelivery)
    case finishSubscribers([AsyncStream<ConnectionState>.Continuation])
    case log(ZooKeeperLogHandler.Level, String)

    static func perform(_ effects: [CoreEffect], log: ZooKeeperLogHandler) {
        for effect in effects {
            switch effect {
            case let .resume(waiter, result): waiter.resume(result)
            case let .deliver(delivery): delivery.perform()
            case let .finishSubscribers(subscribers): for subscriber in subscribers { subscriber.finish() }
            case let .log(level, message): log.log(level, message)
            }
        }
    }
}

/// The client's shared state: request FIFO, outbound bytes, watches, session, connection state.
///
/// Touched by callers (to enqueue) and by the I/O thread (to send, match replies, reconnect), always
/// under one `Mutex`. Continuations and watch streams are never resumed while the lock is held:
/// methods return ``CoreEffect`` lists that the caller performs afterwards. The one exception is the
/// connection-state streams: a state is yielded under the lock, where it is decided, so every subscriber
/// sees every state in the order it happened (performed afterwards, a `.presumedExpired` from the I/O
/// thread could land after a `.lost(.closed)` from `close()`, i.e. after the stream was finished).
/// `yield` only appends to an unbounded buffer, and a subscriber's termination removes it from a task,
/// never inline (inline, it would take this lock under the consumer task's status lock: ABBA).
final class ClientCore: Sendable {
    enum Lifecycle: Sendable {
        case running
        /// `close()` was called: no new requests; the closeSession reply is awaited.
        case closing
        case terminated(ZooKeeperError, ConnectionState.LossReason)
    }

    struct State: Sendable {
        var lifecycle: Lifecycle = .running
        var connectionState: ConnectionState = .connecting
        var subscribers: [UInt64: AsyncStream<ConnectionState>.Continuation] = [:]
        var nextID: UInt64 = 0
        var session: SessionInfo?
        var lastZxidSeen: Int64 = 0
        var nextXid: Int32 = 1
        var outbound: [UInt8] = []
        var wakeRequested = false
        /// The connection's socket, lent by the I/O thread while it has nothing of its own to send: callers
        /// then write their frames themselves, under this lock (see ``writeDirectly(_:)``). Nil otherwise,
        /// and always before the I/O thread writes or closes the socket.
        var directSocket: Socket?
        /// When a caller last wrote directly (the I/O thread's ping timer counts it as a send).
        var lastDirectSend: ContinuousClock.Instant?
        var inFlight = FIFO<PendingRequest>()
        var authentication: [AuthInfo]
        /// One entry per AuthPacket on the current connection, in send order (nil for re-sent credentials).
        var authWaiters: [PendingAuth?] = []
        var watches = WatchRegistry()
        var pingSentAt: ContinuousClock.Instant?
        var lastPingRoundTrip: Duration?
        var serverZxid: Int64?
        var hasEverConnected = false
        /// Whether a read-write server has ever answered our handshake. Until then the session (if any)
        /// was made by a read-only server, whose sessions read-write servers do not know: a reconnect asks
        /// for a new session instead of resuming it (the Java client's `seenRwServerBefore`).
        var seenReadWriteServer = false
        var currentServer: ServerAddress?
        /// Why the last connection (or attempt) failed, for error messages.
        var lastConnectionError: ZooKeeperError?
        var terminationWaiters: [CheckedContinuation<Void, Never>] = []
        var driverFinished = false
        var closeSessionAnswered = false
    }

    let configuration: ZooKeeperConfiguration
    let chroot: Chroot
    let wakeup: WakeupPipe
    let state: Mutex<State>
    var log: ZooKeeperLogHandler { configuration.logHandler }

    init(configuration: ZooKeeperConfiguration) throws(SocketError) {
        self.configuration = configuration
        self.chroot = Chroot(configuration.chroot)
        self.wakeup = try WakeupPipe()
        var initial = State(authentication: configuration.authentication)
        initial.session = configuration.session
        initial.lastZxidSeen = configuration.session?.lastZxidSeen ?? 0
        self.state = Mutex(initial)
    }

    func perform(_ effects: [CoreEffect]) { CoreEffect.perform(effects, log: log) }

    // MARK: - Caller side

    /// Queues a request frame. Its xid is assigned here, under the lock, so calls made one after
    /// another reach the server in call order.
    func enqueue(opCode: OpCode, body: [UInt8], waiter: ReplyWaiter, watch: WatchRegistration?) {
        let (wake, error) = state.withLock { state -> (Bool, ZooKeeperError?) in
            switch state.lifecycle {
            case let .terminated(error, _): return (false, error)
            case .closing where opCode != .closeSession:
                return (false, ZooKeeperError(.clientClosed, message: "the client is closing"))
            default: break
            }
            let xid = state.nextXid
            state.nextXid = xid == Int32.max ? 1 : xid + 1
            Self.appendFrame(to: &state.outbound, xid: xid, opCode: opCode, body: body)
            state.inFlight.append(PendingRequest(xid: xid, opCode: opCode, waiter: waiter, watch: watch, enqueuedAt: .now))
            // Only a request alone on the connection leaves directly: with others outstanding, the I/O thread
            // sends what accumulated in one write (a send per request halved pipelined throughput).
            if state.inFlight.count == 1, !Self.writeDirectly(&state) { return (false, nil) }
            let wake = !state.wakeRequested
            state.wakeRequested = true
            return (wake, nil)
        }
        if let error { waiter.resume(.failure(error)) }
        if wake { wakeup.wake() }
    }

    /// Sends credentials now (if connected) and remembers them for every reconnect (once: a retried
    /// `addAuth` does not pile up copies; a failed one is forgotten, see `failOutstanding`).
    func enqueueAuth(_ info: AuthInfo, waiter: ReplyWaiter) {
        let (wake, error) = state.withLock { state -> (Bool, ZooKeeperError?) in
            if case let .terminated(error, _) = state.lifecycle { return (false, error) }
            let added = !state.authentication.contains(info)
            if added { state.authentication.append(info) }
            let packet = AuthPacket(type: 0, scheme: info.scheme, auth: info.auth)
            Self.appendFrame(to: &state.outbound, xid: ReservedXid.auth, opCode: .auth, body: packet.juteBytes())
            state.authWaiters.append(PendingAuth(waiter: waiter, info: info, added: added))
            let wake = !state.wakeRequested
            state.wakeRequested = true
            return (wake, nil)
        }
        if let error { waiter.resume(.failure(error)) }
        if wake { wakeup.wake() }
    }

    /// Writes the queued bytes to the lent socket, if the I/O thread lent it: a request then leaves from the
    /// caller's thread instead of waking the I/O thread to send it (a context switch per request, ~10–30 µs of
    /// a round trip on a small machine). Bytes queued before (an `addAuth`) go first, in order. Returns
    /// whether the I/O thread must still send something: what the kernel did not take goes to it, in order,
    /// and the socket is no longer lent. A failed write is left for the I/O thread, which meets the same
    /// failure on the socket and reconnects.
    private static func writeDirectly(_ state: inout State) -> Bool {
        guard let socket = state.directSocket else { return true }
        do {
            let written = try socket.write(state.outbound, from: 0)
            if written > 0 { state.lastDirectSend = .now }
            if written == state.outbound.count {
                state.outbound.removeAll(keepingCapacity: true)
                return false
            }
            state.outbound.removeFirst(written)
        } catch {}
        state.directSocket = nil
        return true
    }

    static func appendFrame(to buffer: inout [UInt8], xid: Int32, opCode: OpCode, body: [UInt8]) {
        let length = UInt32(8 + body.count)
        for value in [length, UInt32(bitPattern: xid), UInt32(bitPattern: opCode.rawValue)] {
            buffer.append(UInt8(truncatingIfNeeded: value >> 24))
            buffer.append(UInt8(truncatingIfNeeded: value >> 16))
            buffer.append(UInt8(truncatingIfNeeded: value >> 8))
            buffer.append(UInt8(truncatingIfNeeded: value))
        }
        buffer.append(contentsOf: body)
    }

    func subscribe() -> AsyncStream<ConnectionState> {
        let (stream, continuation) = AsyncStream.makeStream(of: ConnectionState.self, bufferingPolicy: .unbounded)
        let (finished, id) = state.withLock { state -> (Bool, UInt64) in
            state.nextID += 1
            let id = state.nextID
            continuation.yield(state.connectionState)  // under the lock: before any later state
            if case .terminated = state.lifecycle { return (true, id) }
            state.subscribers[id] = continuation
            return (false, id)
        }
        if finished { continuation.finish() }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { _ = self.state.withLock { $0.subscribers.removeValue(forKey: id) } }  // not inline: see the class notes
        }
        return stream
    }

    func nextSinkID() -> UInt64 {
        state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
    }

    // MARK: - I/O thread side

    /// Takes the bytes queued for sending, and when callers last wrote directly. `lending`: the socket, when
    /// the I/O thread has nothing of its own left to write — lent to callers if nothing is queued either;
    /// nil takes it back (before the I/O thread writes).
    func takeOutbound(lending socket: Socket?) -> (bytes: [UInt8], lastDirectSend: ContinuousClock.Instant?) {
        state.withLock { state in
            state.wakeRequested = false
            var taken: [UInt8] = []
            swap(&taken, &state.outbound)
            state.directSocket = taken.isEmpty ? socket : nil
            return (taken, state.lastDirectSend)
        }
    }

    /// The I/O thread wrote everything it had: callers may write directly again, unless they queued more
    /// meanwhile (then it is woken for that).
    func lend(_ socket: Socket) {
        state.withLock { state in
            if state.outbound.isEmpty { state.directSocket = socket }
        }
    }

    /// The I/O thread is about to close or leave the socket: no caller writes to it from now on.
    func revokeSocket() {
        state.withLock { state in
            state.directSocket = nil
            state.lastDirectSend = nil  // a send on this connection says nothing about the next one's
        }
    }

    /// Whether ``ZooKeeperClient/close()`` has begun (and the session is not yet terminated).
    var isClosing: Bool {
        state.withLock { state in
            if case .closing = state.lifecycle { return true }
            return false
        }
    }

    var isTerminated: Bool {
        state.withLock { state in
            if case .terminated = state.lifecycle { return true }
            return false
        }
    }

    /// Fails every outstanding request with `error` (connection lost or a connect attempt failed).
    /// Queued bytes are dropped with them. Moves a live connection to `.suspended`.
    func connectionLost(_ error: ZooKeeperError) -> [CoreEffect] {
        state.withLock { state in
            var effects = Self.failOutstanding(&state, error)
            state.lastConnectionError = error
            state.currentServer = nil
            state.pingSentAt = nil
            if state.connectionState.isConnected, case .running = state.lifecycle {
                effects += Self.publish(&state, .suspended)
            }
            return effects
        }
    }

    private static func failOutstanding(_ state: inout State, _ error: ZooKeeperError) -> [CoreEffect] {
        var effects: [CoreEffect] = []
        while let pending = state.inFlight.popFirst() {
            effects.append(.resume(pending.waiter, .failure(error)))
        }
        for pending in state.authWaiters {
            guard let pending else { continue }
            effects.append(.resume(pending.waiter, .failure(error)))
            // Not applied (credentials live with the connection): forget them here, under the lock,
            // before the next handshake could replay them; the caller's error means "not applied".
            if pending.added, let index = state.authentication.lastIndex(of: pending.info) {
                state.authentication.remove(at: index)
            }
        }
        state.authWaiters = []
        state.outbound = []
        return effects
    }

    /// Records a new connection state and yields it to every subscriber, under the lock (see the class notes).
    static func publish(_ state: inout State, _ new: ConnectionState) -> [CoreEffect] {
        guard state.connectionState != new else { return [] }
        state.connectionState = new
        for subscriber in state.subscribers.values { subscriber.yield(new) }
        return []
    }

    /// Publishes `.presumedExpired` (after `.suspended` if the connection being dropped still counted as up).
    func publishPresumedExpiry() -> [CoreEffect] {
        state.withLock { state in
            guard case .running = state.lifecycle, state.hasEverConnected else { return [] }
            switch state.connectionState {
            case .connected, .reconnected, .readOnly, .suspended: break
            case .connecting, .presumedExpired, .lost: return []
            }
            var effects: [CoreEffect] = [.log(.warning, "no proof that a server heard from us within the session timeout (minus the safety margin): session presumed expired")]
            effects += Self.publish(&state, .suspended)
            effects += Self.publish(&state, .presumedExpired)
            return effects
        }
    }

    /// Ends the session for good: every waiter, watch and subscriber is told, exactly once.
    func terminate(_ error: ZooKeeperError, reason: ConnectionState.LossReason) -> [CoreEffect] {
        let effects = state.withLock { state -> [CoreEffect] in
            if case .terminated = state.lifecycle { return [] }
            state.lifecycle = .terminated(error, reason)
            var effects = Self.failOutstanding(&state, error)
            effects += state.watches.failAll(error).map(CoreEffect.deliver)
            effects += Self.publish(&state, .lost(reason))
            effects.append(.finishSubscribers(Array(state.subscribers.values)))
            state.subscribers = [:]
            return effects
        }
        wakeup.wake()
        return effects
    }

    /// Called once by the I/O thread as it exits.
    func driverDidFinish() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.driverFinished = true
            defer { state.terminationWaiters = [] }
            return state.terminationWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until the I/O thread has exited.
    func waitForDriver() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = state.withLock { state -> Bool in
                if state.driverFinished { return true }
                state.terminationWaiters.append(continuation)
                return false
            }
            if finished { continuation.resume() }
        }
    }
}

/// Maps between client paths and server paths under a chroot.
struct Chroot: Sendable {
    let prefix: String?

    init(_ prefix: String?) { self.prefix = (prefix == "/" ? nil : prefix) }

    func serverPath(_ clientPath: String) -> String {
        guard let prefix else { return clientPath }
        return clientPath == "/" ? prefix : prefix + clientPath
    }

    func clientPath(_ serverPath: String) -> String {
        guard let prefix else { return serverPath }
        if serverPath == prefix { return "/" }
        if serverPath.hasPrefix(prefix), serverPath.utf8.dropFirst(prefix.utf8.count).first == UInt8(ascii: "/") {
            return String(serverPath.dropFirst(prefix.count))
        }
        return serverPath
    }
}
