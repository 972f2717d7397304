import Foundation
import ZooKeeperPOSIX
import Synchronization
import ZooKeeperProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The client's I/O thread: connects, handshakes, pipelines requests, pings, detects a silent server,
/// and reconnects across the ensemble until the session ends.
///
/// Only this thread touches the socket. Callers reach it through ``ClientCore`` (queued bytes plus a
/// wake-up pipe). Every timing decision is the ``ConnectionStateMachine``'s: each wait here polls until
/// the machine's next deadline at the latest, so its timers (presumed expiry above all) fire on time
/// whatever the thread is waiting for — a TCP connect, a handshake, a backoff or a live connection.
enum ConnectionDriver {
    typealias Machine = ConnectionStateMachine<ContinuousClock.Instant>

    static func start(_ core: ClientCore) {
        let thread = Thread { run(core) }
        thread.name = "zookeeper-io"
        thread.start()
    }

    /// How one attempt ended.
    private enum AttemptEnd: Error {
        /// No session was established (connect failed, timed out, bad handshake).
        case failed(ZooKeeperError)
        /// TCP connected but the server closed before answering the handshake (e.g. zxid ahead).
        case refused
        /// A live connection was lost.
        case lost(ZooKeeperError)
        /// The session is over (expired, auth failed, closed).
        case ended
        /// On a read-only server, this server answered `isro` with `rw`: reconnect to it.
        case readWriteServerFound(ServerAddress)
    }

    private static func run(_ core: ClientCore) {
        var hosts = HostList(core.configuration.servers, shuffle: core.configuration.shuffleServers)
        var machine = Machine(margin: core.configuration.sessionExpiryMargin)
        /// Since when every host has been shown to be behind the session (see ``probe``).
        var allBehindSince: ContinuousClock.Instant?
        defer { core.driverDidFinish() }
        while !core.isTerminated {
            if core.isClosing {
                // close() is finishing (it terminates the core): never reconnect a closing session.
                _ = try? Poller.waitFor(fd: core.wakeup.readFD, events: Poller.readable, timeout: .milliseconds(100))
                core.wakeup.drain()
                continue
            }
            let (host, delay) = hosts.next()
            if delay > .zero, !pause(core, &machine, until: .now + delay) { return }
            let addresses: [SocketAddress]
            switch resolve(core, &machine, host: host, hostCount: hosts.hosts.count) {
            case let .success(resolved):
                addresses = resolved
            case let .failure(error):
                if core.isTerminated { return }
                machine.connectionEnded()
                hosts.noteFailure()
                core.perform(core.connectionLost(error))
                continue
            }
            // Each resolved address is a host of its own, with a whole connect timeout (the Java client's
            // rule): a blackholed first address must not eat the second one's deadline.
            var refused = false
            var established = false
            for address in addresses {
                let end = attempt(core, &machine, host: host, address: address, hosts: hosts.hosts)
                machine.connectionEnded()
                switch end {
                case .ended:
                    return
                case let .failed(error):
                    core.perform(core.connectionLost(error))
                case .refused:
                    refused = true
                    core.perform(core.connectionLost(ZooKeeperError(
                        .connectionLoss, message: "\(host) (\(address)) closed the connection before answering the handshake")))
                    if core.state.withLock({ $0.lastZxidSeen > 0 }),
                       probe(core, &machine, address: address, hostCount: hosts.hosts.count) {
                        hosts.noteBehind(host)
                    }
                case let .lost(error):
                    established = true
                    core.perform(core.connectionLost(error))
                case let .readWriteServerFound(server):
                    established = true
                    hosts.prefer(server)
                    core.perform(core.connectionLost(ZooKeeperError(
                        .connectionLoss, message: "leaving the read-only server \(host): \(server) serves reads and writes")))
                }
                _ = runTimers(core, &machine)
                if core.isClosing {
                    // close() is under way: its closeSession was answered (the server then drops the
                    // connection) or failed with the connection. Reconnecting would only find the session
                    // closed and report it as expired, racing close()'s own `.lost(.closed)`.
                    core.perform(core.terminate(ZooKeeperError(.clientClosed, message: "the client was closed"), reason: .closed))
                    return
                }
                if established || core.isTerminated { break }  // after a session, move on to the next host
            }
            if established {
                // A session was made (and since lost): the backoff and the refusal evidence start over.
                hosts.noteConnected()
                hosts.noteFailure()
            } else if refused {
                hosts.noteRefused(host)
            } else {
                hosts.noteFailure()
            }
            let (session, lastZxid) = core.state.withLock { ($0.session, $0.lastZxidSeen) }
            guard let session else { continue }
            // Apache closes a handshake unanswered for many reasons (no quorum, an election, still
            // loading, throttling, maxClientCnxns, a read-only server): those pass, and the session may
            // well be resumed afterwards (Apache restores sessions on restart). Only hosts that refuse
            // *our* session while granting a fresh one are behind it; when every host has shown that for
            // a whole session timeout, none will ever resume it.
            if hosts.everyHostBehind {
                let since = allBehindSince ?? .now
                allBehindSince = since
                if since.duration(to: .now) >= session.timeout {
                    let error = ZooKeeperError(
                        .serversBehindSession,
                        message: "every server refuses this session while serving new ones: each has seen fewer transactions than this session (last zxid 0x\(String(lastZxid, radix: 16))); the session cannot be resumed")
                    core.perform(core.terminate(error, reason: .serversBehindSession))
                }
            } else {
                allBehindSince = nil
            }
        }
    }

    private static func connectTimeout(_ core: ClientCore, hostCount: Int) -> Duration {
        if let configured = core.configuration.connectTimeout { return configured }
        let session = core.state.withLock { $0.session?.timeout } ?? core.configuration.sessionTimeout
        return max(session / max(hostCount, 1), .milliseconds(500))
    }

    // MARK: - Waiting with the machine's timers

    private enum Wake {
        /// The socket reported these events.
        case socket(Int16)
        /// Timers fired (presumed expiry is already published); the caller acts on the rest.
        case timers([Machine.Action])
        /// The wake-up pipe: new work (or a spurious wake-up); nothing to time.
        case wakeup
        /// The client was terminated.
        case ended
    }

    /// Polls the wake-up pipe (and `fd` for `events`) until something happens or the machine's next deadline.
    /// The wake-up pipe means "look at the queue" here, never "abort": only termination ends a wait.
    private static func wait(_ core: ClientCore, _ machine: inout Machine, fd: Int32?, events: Int16) -> Wake {
        var fds = [pollfd(fd: core.wakeup.readFD, events: Poller.readable, revents: 0)]
        if let fd { fds.append(pollfd(fd: fd, events: events, revents: 0)) }
        let timeout = machine.nextDeadline.map { max(.zero, ContinuousClock.now.duration(to: $0)) }
        do { _ = try Poller.poll(&fds, timeout: timeout) } catch {
            return fd == nil ? .wakeup : .socket(Poller.failed)
        }
        if fds[0].revents != 0 {
            core.wakeup.drain()
            if core.isTerminated { return .ended }
        }
        let actions = runTimers(core, &machine)
        if !actions.isEmpty { return .timers(actions) }
        if fd != nil, fds[1].revents != 0 { return .socket(fds[1].revents) }
        return .wakeup
    }

    /// Runs the timers due now; publishes presumed expiry itself and returns the other actions.
    private static func runTimers(_ core: ClientCore, _ machine: inout Machine) -> [Machine.Action] {
        var rest: [Machine.Action] = []
        for action in machine.tick(now: .now) {
            if action == .publishPresumedExpired {
                core.perform(core.publishPresumedExpiry())
            } else {
                rest.append(action)
            }
        }
        return rest
    }

    /// Waits until `deadline` (a backoff), keeping the timers running. False if the client was terminated.
    private static func pause(_ core: ClientCore, _ machine: inout Machine, until deadline: ContinuousClock.Instant) -> Bool {
        while ContinuousClock.now < deadline {
            var fds = [pollfd(fd: core.wakeup.readFD, events: Poller.readable, revents: 0)]
            let next = [machine.nextDeadline, deadline].compactMap { $0 }.min()!
            _ = try? Poller.poll(&fds, timeout: max(.zero, ContinuousClock.now.duration(to: next)))
            if fds[0].revents != 0 {
                core.wakeup.drain()
                if core.isTerminated { return false }
            }
            _ = runTimers(core, &machine)
        }
        return !core.isTerminated
    }

    /// Resolves `host` on a thread of its own (see ``PendingResolution``), within the connect timeout,
    /// keeping the timers running meanwhile.
    private static func resolve(
        _ core: ClientCore, _ machine: inout Machine, host: ServerAddress, hostCount: Int
    ) -> Result<[SocketAddress], ZooKeeperError> {
        machine.attemptStarted(now: .now, timeout: connectTimeout(core, hostCount: hostCount))
        let pending = PendingResolution(host: host.host, port: host.port,
                                        resolver: core.configuration.addressResolver ?? PendingResolution.system,
                                        wakeup: core.wakeup)
        while true {
            switch pending.result {
            case let .success(addresses)? where !addresses.isEmpty:
                return .success(addresses)
            case .success?:
                return .failure(ZooKeeperError(.connectionLoss, message: "cannot resolve \(host): no address"))
            case let .failure(error)?:
                return .failure(ZooKeeperError(.connectionLoss, message: "cannot resolve \(host)", underlying: error))
            case nil:
                break
            }
            switch wait(core, &machine, fd: nil, events: 0) {
            case .ended:
                return .failure(ZooKeeperError(.clientClosed, message: "the client was closed"))
            case let .timers(actions) where actions.contains(.abandonAttempt):
                return .failure(ZooKeeperError(.connectionLoss, message: "resolving \(host) timed out"))
            case .timers, .wakeup, .socket:
                continue
            }
        }
    }

    /// After `address` refused our session: does it grant a fresh one? (A new session with zxid 0,
    /// closed at once.) True is the evidence that the server is up and serving but behind our session.
    private static func probe(_ core: ClientCore, _ machine: inout Machine, address: SocketAddress, hostCount: Int) -> Bool {
        machine.attemptStarted(now: .now, timeout: connectTimeout(core, hostCount: hostCount))
        defer { machine.connectionEnded() }
        guard let socket = try? connectSocket(core, &machine, to: address) else { return false }
        defer { socket.close() }
        let request = ConnectRequest(
            protocolVersion: 0, lastZxidSeen: 0, timeOut: core.makeConnectRequest().timeOut, sessionId: 0,
            passwd: [UInt8](repeating: 0, count: 16), readOnly: false)
        guard (try? socket.writeAll(Frame.encode(request.juteBytes()), timeout: .seconds(1))) != nil else { return false }
        var decoder = FrameDecoder(maximumLength: core.configuration.maxFrameLength)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let frame = try? decoder.next() {
                guard let response = try? ConnectResponse(juteBytes: frame), response.timeOut > 0 else { return false }
                // Close the probe's session so it leaves nothing behind on the server.
                _ = try? socket.writeAll(Frame.encode(xid: 1, opCode: .closeSession, record: nil), timeout: .seconds(1))
                return true
            }
            switch wait(core, &machine, fd: socket.fd, events: Poller.readable) {
            case .ended: return false
            case let .timers(actions) where actions.contains(.abandonAttempt): return false
            case .timers, .wakeup: continue
            case .socket: break
            }
            guard case let .bytes(count)? = try? socket.read(into: &buffer) else { return false }
            decoder.append(buffer[0..<count])
        }
    }

    /// A TCP connection to `address` within the machine's attempt deadline (timers running meanwhile).
    private static func connectSocket(_ core: ClientCore, _ machine: inout Machine, to address: SocketAddress) throws -> Socket {
        let (socket, connected) = try Socket.startConnect(to: address)
        if connected { return socket }
        while true {
            switch wait(core, &machine, fd: socket.fd, events: Poller.writable) {
            case .ended:
                socket.close()
                throw ZooKeeperError(.clientClosed, message: "the client was closed")
            case .wakeup: continue
            case let .timers(actions):
                if actions.contains(.abandonAttempt) {
                    socket.close()
                    throw SocketError.timedOut(operation: "connect to \(address)")
                }
            case .socket:
                do { try socket.finishConnect() } catch {
                    socket.close()
                    throw error
                }
                return socket
            }
        }
    }

    // MARK: - One attempt

    private static func attempt(
        _ core: ClientCore, _ machine: inout Machine, host: ServerAddress, address: SocketAddress, hosts: [ServerAddress]
    ) -> AttemptEnd {
        machine.attemptStarted(now: .now, timeout: connectTimeout(core, hostCount: hosts.count))
        let socket: Socket
        do {
            socket = try connectSocket(core, &machine, to: address)
        } catch {
            if core.isTerminated { return .ended }
            return .failed(ZooKeeperError(.connectionLoss, message: "cannot connect to \(host) (\(address))", underlying: error))
        }
        defer { socket.close() }
        core.perform([.log(.debug, "connected to \(host) (\(address)), sending handshake")])

        var decoder = FrameDecoder(maximumLength: core.configuration.maxFrameLength)
        let response: ConnectResponse
        switch handshake(core, &machine, socket: socket, decoder: &decoder) {
        case let .success(value): response = value
        case let .failure(end): return end
        }
        let (priming, effects) = core.handshakeSucceeded(response, server: host)
        core.perform(effects)
        guard let priming else {
            machine.sessionEnded()
            return .ended
        }
        machine.sessionEstablished(now: .now, timeout: .milliseconds(Int64(response.timeOut)), readOnly: response.readOnly)
        // While on a read-only server, the other servers are asked in turn whether they serve writes.
        let others = hosts.filter { $0 != host }
        return serve(core, &machine, socket: socket, decoder: &decoder, priming: priming, probeTargets: others)
    }

    private static func handshake(
        _ core: ClientCore, _ machine: inout Machine, socket: Socket, decoder: inout FrameDecoder
    ) -> Result<ConnectResponse, AttemptEnd> {
        let request = core.makeConnectRequest()
        do {
            // A few dozen bytes into a fresh socket's empty send buffer: never blocks in practice.
            try socket.writeAll(Frame.encode(request.juteBytes()), timeout: .seconds(1))
        } catch {
            return .failure(.failed(ZooKeeperError(.connectionLoss, message: "handshake write failed", underlying: error)))
        }
        machine.handshakeSent(now: .now)
        var buffer = [UInt8](repeating: 0, count: 4096)
        var received = 0
        while true {
            do {
                if let frame = try decoder.next() {
                    return .success(try ConnectResponse(juteBytes: frame))
                }
            } catch {
                return .failure(.failed(ZooKeeperError(.protocolViolation, message: "bad handshake reply", underlying: error)))
            }
            switch wait(core, &machine, fd: socket.fd, events: Poller.readable) {
            case .ended: return .failure(.ended)
            case .wakeup: continue
            case let .timers(actions):
                if actions.contains(.abandonAttempt) {
                    return .failure(.failed(ZooKeeperError(.connectionLoss, message: "handshake timed out")))
                }
                continue
            case .socket: break
            }
            do {
                switch try socket.read(into: &buffer) {
                case let .bytes(count):
                    received += count
                    decoder.append(buffer[0..<count])
                case .wouldBlock: continue
                case .endOfFile:
                    if received == 0 { return .failure(.refused) }
                    return .failure(.failed(ZooKeeperError(.connectionLoss, message: "connection closed during the handshake")))
                }
            } catch {
                if received == 0, case .system(_, let code) = error, code == ECONNRESET { return .failure(.refused) }
                return .failure(.failed(ZooKeeperError(.connectionLoss, message: "handshake read failed", underlying: error)))
            }
        }
    }

    private static let pingFrame = Frame.encode(xid: ReservedXid.ping, opCode: .ping, record: nil)

    /// Runs an established connection until it is lost or the session ends.
    private static func serve(
        _ core: ClientCore, _ machine: inout Machine, socket: Socket, decoder: inout FrameDecoder, priming: [UInt8],
        probeTargets: [ServerAddress]
    ) -> AttemptEnd {
        var pending = priming
        var offset = 0
        var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
        var probe: ReadWriteProbe?
        var probeCursor = 0
        defer { core.revokeSocket() }  // before the caller closes it
        while true {
            if core.isTerminated { return .ended }
            if let asked = probe, let found = asked.found {
                probe = nil
                if found { return .readWriteServerFound(asked.server) }
                machine.probeFailed(now: .now)
            }
            let (more, lastDirectSend) = core.takeOutbound(lending: offset == pending.count ? socket : nil)
            if let lastDirectSend, machine.lastSend.map({ lastDirectSend > $0 }) ?? true { machine.sent(now: lastDirectSend) }
            if !more.isEmpty {
                if offset == pending.count { pending = more; offset = 0 } else { pending.append(contentsOf: more) }
            }
            if offset < pending.count {
                do {
                    let written = try socket.write(pending, from: offset)
                    if written > 0 { machine.sent(now: .now) }
                    offset += written
                } catch {
                    return .lost(ZooKeeperError(.connectionLoss, message: "write failed", underlying: error))
                }
                if offset == pending.count {
                    pending.removeAll(keepingCapacity: pending.capacity <= 1 << 20)
                    offset = 0
                    core.lend(socket)
                }
            }
            let wantWrite = offset < pending.count
            let revents: Int16
            switch wait(core, &machine, fd: socket.fd, events: Poller.readable | (wantWrite ? Poller.writable : 0)) {
            case .ended: return .ended
            case .wakeup: continue
            case let .timers(actions):
                for action in actions {
                    switch action {
                    case .sendPing:
                        pending.append(contentsOf: pingFrame)
                        core.notePingSent(at: .now)
                    case let .dropConnection(reason):
                        return .lost(ZooKeeperError(.connectionLoss, message: reason))
                    case .probeForReadWriteServer:
                        guard !probeTargets.isEmpty else { break }  // one server: nowhere else to go
                        probe = ReadWriteProbe(
                            server: probeTargets[probeCursor % probeTargets.count],
                            resolver: core.configuration.addressResolver ?? PendingResolution.system, wakeup: core.wakeup)
                        probeCursor += 1
                    case .abandonAttempt, .publishPresumedExpired:
                        break
                    }
                }
                continue
            case let .socket(events):
                revents = events
            }
            guard revents & (Poller.readable | Poller.failed) != 0 else { continue }
            var endOfFile = false
            readLoop: for _ in 0..<16 {
                do {
                    switch try socket.read(into: &readBuffer) {
                    case let .bytes(count):
                        decoder.append(readBuffer[0..<count])
                        machine.received(now: .now)
                        if count < readBuffer.count { break readLoop }
                    case .wouldBlock: break readLoop
                    case .endOfFile:
                        endOfFile = true
                        break readLoop
                    }
                } catch {
                    return .lost(ZooKeeperError(.connectionLoss, message: "read failed", underlying: error))
                }
            }
            var frames: [[UInt8]] = []
            do {
                while let frame = try decoder.next() { frames.append(frame) }
            } catch {
                if !frames.isEmpty { _ = process(core, &machine, frames: frames) }
                return .lost(ZooKeeperError(.connectionLoss, message: "bad frame from the server", underlying: error))
            }
            if !frames.isEmpty, let end = process(core, &machine, frames: frames) { return end }
            if core.closeSessionAnswered {
                // The session is closed; the server is about to drop the connection anyway.
                return .lost(ZooKeeperError(.connectionLoss, message: "the session was closed"))
            }
            if endOfFile {
                return .lost(ZooKeeperError(.connectionLoss, message: "the server closed the connection"))
            }
        }
    }

    private static func process(_ core: ClientCore, _ machine: inout Machine, frames: [[UInt8]]) -> AttemptEnd? {
        let (outcome, effects, proof) = core.handle(frames: frames, now: .now)
        if let proof { machine.note(proof: proof) }
        core.perform(effects)
        switch outcome {
        case .keepGoing: return nil
        case let .dropConnection(error):
            core.perform([.log(.error, "dropping the connection: \(error)")])
            return .lost(ZooKeeperError(.connectionLoss, message: error.message, underlying: error))
        case .terminated: return .ended
        }
    }
}
