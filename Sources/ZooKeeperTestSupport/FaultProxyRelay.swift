#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ZooKeeperPOSIX

/// The fault proxy's poll loop, run on its one dedicated thread: accepts clients, connects them
/// upstream, relays bytes both ways, and applies the control settings (stall, delay, reset, stop)
/// at the top of every iteration. Every socket is non-blocking; the only wait is `poll`, whose
/// timeout is the next delayed chunk's release instant.
struct FaultProxyRelay {
    private let listener: Socket
    private let upstream: SocketAddress
    private let control: FaultProxyControl
    private let rewriter: FaultProxy.FirstBytesRewriter?
    /// How long after its accept a connection whose upstream refuses is held and retried.
    private let upstreamRetryWindow: Duration
    private var connections: [RelayConnection] = []
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var lastResetGeneration = 0
    private var newlyAccepted = 0
    private let clock = ContinuousClock()

    init(
        listener: Socket, upstream: SocketAddress, control: FaultProxyControl,
        rewriter: FaultProxy.FirstBytesRewriter? = nil, upstreamRetryWindow: Duration = .zero
    ) {
        self.listener = listener
        self.upstream = upstream
        self.control = control
        self.rewriter = rewriter
        self.upstreamRetryWindow = upstreamRetryWindow
    }

    /// Runs until ``FaultProxyControl/Settings/stopping`` (or a failing `poll`), then closes
    /// every socket it owns, the listener included.
    mutating func run() {
        defer { closeEverything() }
        while true {
            let (settings, generation) = control.snapshot()
            if settings.stopping { return }
            apply(settings)
            control.acknowledge(generation: generation, active: connections.count, newlyAccepted: newlyAccepted)
            newlyAccepted = 0
            do {
                try pollOnce(settings)
            } catch {
                return  // poll itself failed: nothing sensible is left to do but close
            }
        }
    }

    // MARK: Settings

    private mutating func apply(_ settings: FaultProxyControl.Settings) {
        if settings.resetGeneration != lastResetGeneration {
            lastResetGeneration = settings.resetGeneration
            connections.forEach { $0.close(reset: true) }
        }
        let now = clock.now
        for connection in connections {
            if case .held = connection.phase, !settings.bothStalled, (connection.retryAt ?? now) <= now {
                connectUpstream(connection, now: now)
            }
            progress(connection, settings, now: now)
        }
        connections.removeAll { $0.isClosed }
    }

    // MARK: Polling

    private mutating func pollOnce(_ settings: FaultProxyControl.Settings) throws {
        let now = clock.now
        var fds = [
            pollfd(fd: control.wakeup.readFD, events: Poller.readable, revents: 0),
            pollfd(fd: listener.fd, events: Poller.readable, revents: 0),
        ]
        var deadline: ContinuousClock.Instant?
        // Where each connection's sockets sit in `fds` (upstream: -1 when there is none).
        var slots: [(client: Int, upstream: Int)] = []
        for connection in connections {
            let interest = Self.interest(connection, settings, now: now)
            let clientSlot = fds.count
            fds.append(pollfd(fd: connection.client.fd, events: interest.client, revents: 0))
            var upstreamSlot = -1
            if let socket = connection.upstream {
                upstreamSlot = fds.count
                fds.append(pollfd(fd: socket.fd, events: interest.upstream, revents: 0))
            }
            slots.append((clientSlot, upstreamSlot))
            if let release = interest.release { deadline = min(deadline ?? release, release) }
        }
        _ = try Poller.poll(&fds, timeout: deadline.map { $0 - now })

        if fds[0].revents != 0 { control.wakeup.drain() }
        let after = clock.now
        for (index, connection) in connections.enumerated() {
            let slot = slots[index]
            handle(
                connection, clientEvents: fds[slot.client].revents,
                upstreamEvents: slot.upstream >= 0 ? fds[slot.upstream].revents : 0,
                settings, now: after)
        }
        connections.removeAll { $0.isClosed }
        if fds[1].revents != 0 { acceptPending(settings) }
    }

    /// What to poll each socket of `connection` for, and when its next delayed chunk is due.
    private static func interest(
        _ connection: RelayConnection, _ settings: FaultProxyControl.Settings, now: ContinuousClock.Instant
    ) -> (client: Int16, upstream: Int16, release: ContinuousClock.Instant?) {
        switch connection.phase {
        case .held:
            // A connection waiting to retry its upstream wakes the loop when it is due.
            return (0, 0, settings.bothStalled ? nil : connection.retryAt)
        case .closed:
            return (0, 0, nil)
        case .connecting:
            return (0, Poller.writable, nil)
        case .relaying:
            let upward = !settings.stallClientToServer
            let downward = !settings.stallServerToClient
            var client: Int16 = 0
            var upstream: Int16 = 0
            if upward && !connection.toServer.sourceClosed && connection.toServer.hasRoom { client |= Poller.readable }
            if downward && !connection.toClient.sourceClosed && connection.toClient.hasRoom { upstream |= Poller.readable }
            if upward && connection.toServer.hasDue(at: now) { upstream |= Poller.writable }
            if downward && connection.toClient.hasDue(at: now) { client |= Poller.writable }
            let releases = [
                upward ? connection.toServer.pendingRelease(after: now) : nil,
                downward ? connection.toClient.pendingRelease(after: now) : nil,
            ].compactMap { $0 }
            return (client, upstream, releases.min())
        }
    }

    // MARK: Connections

    private mutating func acceptPending(_ settings: FaultProxyControl.Settings) {
        // A bounded batch, so a connection storm cannot starve the relaying.
        for _ in 0..<64 {
            guard let client = try? listener.accept() else { return }
            newlyAccepted += 1
            let connection = RelayConnection(client: client, acceptedAt: clock.now)
            connection.rewrite = rewriter.map { FirstBytesRewrite(rewriter: $0) }
            connections.append(connection)
            if !settings.bothStalled { connectUpstream(connection, now: clock.now) }
        }
    }

    private func connectUpstream(_ connection: RelayConnection, now: ContinuousClock.Instant) {
        do {
            let (socket, connected) = try Socket.startConnect(to: upstream)
            connection.phase = connected ? .relaying(socket) : .connecting(socket)
            connection.retryAt = nil
        } catch {
            upstreamFailed(connection, now: now)
        }
    }

    /// The upstream refused (or could not be reached). Within the retry window the client is held and the
    /// connect retried shortly: a peer that connects a moment before the server listens (a learner racing
    /// its new leader's quorum port) then gets through late, where without a proxy its refused connect would
    /// be retried — instead of being accepted and closed, which a ZooKeeper learner takes for a failed
    /// leader. Past the window the client sees its connection close.
    private func upstreamFailed(_ connection: RelayConnection, now: ContinuousClock.Instant) {
        control.noteRefusedUpstream()
        guard now < connection.acceptedAt + upstreamRetryWindow else {
            connection.close(reset: false)
            return
        }
        connection.upstream?.close()
        connection.phase = .held
        connection.retryAt = now + .milliseconds(20)
    }

    private mutating func handle(
        _ connection: RelayConnection, clientEvents: Int16, upstreamEvents: Int16,
        _ settings: FaultProxyControl.Settings, now: ContinuousClock.Instant
    ) {
        let broken = Int16(POLLERR) | Int16(POLLNVAL)
        switch connection.phase {
        case .closed:
            return
        case .held:
            // Only a reset or a full hang-up is noticed on a held client.
            if clientEvents & (broken | Int16(POLLHUP)) != 0 { connection.close(reset: false) }
        case .connecting(let socket):
            if clientEvents & (broken | Int16(POLLHUP)) != 0 {
                connection.close(reset: false)
            } else if upstreamEvents != 0 {
                if (try? socket.finishConnect()) != nil {
                    connection.phase = .relaying(socket)
                    progress(connection, settings, now: now)
                } else {
                    upstreamFailed(connection, now: now)
                }
            }
        case .relaying(let socket):
            if (clientEvents | upstreamEvents) & broken != 0 {
                connection.close(reset: true)  // one side was reset: reset the other too
                return
            }
            do {
                if !settings.stallClientToServer {
                    try read(
                        from: connection.client, into: &connection.toServer, events: clientEvents, settings, now: now,
                        rewrite: connection.rewrite)
                } else if clientEvents & Int16(POLLHUP) != 0 {
                    connection.close(reset: false)
                    return
                }
                if !settings.stallServerToClient {
                    try read(from: socket, into: &connection.toClient, events: upstreamEvents, settings, now: now)
                } else if upstreamEvents & Int16(POLLHUP) != 0 {
                    connection.close(reset: false)
                    return
                }
            } catch {
                connection.close(reset: true)
                return
            }
            progress(connection, settings, now: now)
        }
    }

    /// Reads what `source` has (until it would block or the buffer is full), stamping each chunk
    /// with its release instant under the current delay.
    /// `rewrite`: the client's first bytes, held until the proxy's rewriter decides (client side only).
    private mutating func read(
        from source: Socket, into buffer: inout RelayBuffer, events: Int16,
        _ settings: FaultProxyControl.Settings, now: ContinuousClock.Instant, rewrite: FirstBytesRewrite? = nil
    ) throws {
        guard events & (Poller.readable | Int16(POLLHUP)) != 0 else { return }
        while !buffer.sourceClosed && buffer.hasRoom {
            switch try source.read(into: &readBuffer) {
            case .bytes(let count):
                var bytes = Array(readBuffer[0..<count])
                if let forwarded = rewrite?.feed(bytes) { bytes = forwarded }
                if !bytes.isEmpty { buffer.append(bytes, releaseAt: now + Self.holdTime(settings)) }
            case .endOfFile:
                // Bytes still held for the rewriter go as they are.
                if let held = rewrite?.flush(), !held.isEmpty {
                    buffer.append(held, releaseAt: now + Self.holdTime(settings))
                }
                buffer.sourceClosed = true
            case .wouldBlock:
                return
            }
        }
    }

    private static func holdTime(_ settings: FaultProxyControl.Settings) -> Duration {
        guard settings.jitter > .zero else { return settings.delay }
        let jitterNanos = settings.jitter.components.seconds * 1_000_000_000
            + settings.jitter.components.attoseconds / 1_000_000_000
        return settings.delay + .nanoseconds(Int64.random(in: 0...max(0, jitterNanos)))
    }

    /// Writes what is due in each direction that is not stalled, and closes the connection once
    /// a side has sent EOF and everything it sent before has been forwarded (or, when that
    /// direction is stalled, at once: the remaining bytes are lost with the connection).
    private func progress(_ connection: RelayConnection, _ settings: FaultProxyControl.Settings, now: ContinuousClock.Instant) {
        guard case .relaying(let socket) = connection.phase else { return }
        do {
            if !settings.stallClientToServer { try connection.toServer.flush(to: socket, now: now) }
            if !settings.stallServerToClient { try connection.toClient.flush(to: connection.client, now: now) }
        } catch {
            connection.close(reset: true)
            return
        }
        let upwardDone = connection.toServer.sourceClosed
            && (connection.toServer.isEmpty || settings.stallClientToServer)
        let downwardDone = connection.toClient.sourceClosed
            && (connection.toClient.isEmpty || settings.stallServerToClient)
        if upwardDone || downwardDone { connection.close(reset: false) }
    }

    private mutating func closeEverything() {
        connections.forEach { $0.close(reset: false) }
        connections.removeAll()
        listener.close()
        control.loopDidEnd()
    }
}
