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
/// wake-up pipe). Blocking happens here and never on the cooperative thread pool.
enum ConnectionDriver {
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
    }

    private static func run(_ core: ClientCore) {
        var hosts = HostList(core.configuration.servers, shuffle: core.configuration.shuffleServers)
        var lastContact = ContinuousClock.now
        defer { core.driverDidFinish() }
        while !core.isTerminated {
            if core.isClosing {
                // close() is finishing (it terminates the core): never reconnect a closing session.
                _ = try? Poller.waitFor(fd: core.wakeup.readFD, events: Poller.readable, timeout: .milliseconds(100))
                core.wakeup.drain()
                continue
            }
            let (host, delay) = hosts.next()
            if delay > .zero {
                _ = try? Poller.waitFor(fd: core.wakeup.readFD, events: Poller.readable, timeout: delay)
                core.wakeup.drain()
                if core.isTerminated { return }
            }
            let end = attempt(core, host: host, hostCount: hosts.hosts.count, lastContact: &lastContact, hosts: &hosts)
            switch end {
            case .ended:
                return
            case let .failed(error):
                hosts.noteFailure()
                core.perform(core.connectionLost(error))
            case .refused:
                hosts.noteRefused(host)
                core.perform(core.connectionLost(ZooKeeperError(
                    .connectionLoss, message: "\(host) closed the connection before answering the handshake")))
            case let .lost(error):
                hosts.noteFailure()
                core.perform(core.connectionLost(error))
            }
            if core.isClosing {
                // close() is under way: its closeSession was answered (the server then drops the
                // connection) or failed with the connection. Reconnecting would only find the session
                // closed and report it as expired, racing close()'s own `.lost(.closed)`.
                core.perform(core.terminate(ZooKeeperError(.clientClosed, message: "the client was closed"), reason: .closed))
                return
            }
            let (session, lastZxid) = core.state.withLock { ($0.session, $0.lastZxidSeen) }
            guard let session else { continue }
            let silentFor = lastContact.duration(to: .now)
            if silentFor > session.timeout {
                core.perform(core.publishPresumedExpiry())
                // A server that is still starting also closes connections unanswered, and it will keep
                // the session (Apache restores sessions on restart): only refusals that outlast twice
                // the session timeout (at least 10 s) mean the servers are behind for good.
                if hosts.everyHostRefused && lastZxid > 0 && silentFor > max(session.timeout * 2, .seconds(10)) {
                    let error = ZooKeeperError(
                        .serversBehindSession,
                        message: "every server closed the connection before the handshake: each has seen fewer transactions than this session (last zxid 0x\(String(lastZxid, radix: 16))); the session cannot be resumed")
                    core.perform(core.terminate(error, reason: .serversBehindSession))
                }
            }
        }
    }

    private static func connectTimeout(_ core: ClientCore, hostCount: Int) -> Duration {
        if let configured = core.configuration.connectTimeout { return configured }
        let session = core.state.withLock { $0.session?.timeout } ?? core.configuration.sessionTimeout
        return max(session / max(hostCount, 1), .milliseconds(500))
    }

    private static func attempt(
        _ core: ClientCore, host: ServerAddress, hostCount: Int,
        lastContact: inout ContinuousClock.Instant, hosts: inout HostList
    ) -> AttemptEnd {
        let timeout = connectTimeout(core, hostCount: hostCount)
        let deadline = ContinuousClock.now + timeout
        let socket: Socket
        do {
            socket = try openSocket(to: host, timeout: timeout, interruptFD: core.wakeup.readFD)
        } catch {
            if core.isTerminated { return .ended }
            return .failed(ZooKeeperError(.connectionLoss, message: "cannot connect to \(host)", underlying: error))
        }
        defer { socket.close() }
        core.perform([.log(.debug, "connected to \(host), sending handshake")])

        var decoder = FrameDecoder(maximumLength: core.configuration.maxFrameLength)
        let response: ConnectResponse
        switch handshake(core, socket: socket, deadline: deadline, decoder: &decoder) {
        case let .success(value): response = value
        case let .failure(end): return end
        }
        let (priming, effects) = core.handshakeSucceeded(response, server: host)
        core.perform(effects)
        guard let priming else { return .ended }
        hosts.noteConnected()
        lastContact = .now
        return serve(core, socket: socket, decoder: &decoder, priming: priming,
                     sessionTimeout: .milliseconds(Int64(response.timeOut)), lastContact: &lastContact)
    }

    private static func openSocket(to host: ServerAddress, timeout: Duration, interruptFD: Int32) throws -> Socket {
        var lastError: (any Error)?
        for address in try SocketAddress.resolve(host: host.host, port: host.port) {
            do { return try Socket.connect(to: address, timeout: timeout, interruptFD: interruptFD) } catch {
                lastError = error
                if case SocketError.interrupted = error { throw error }
            }
        }
        throw lastError ?? SocketError.resolutionFailed(host: host.host, message: "no address")
    }

    private static func handshake(
        _ core: ClientCore, socket: Socket, deadline: ContinuousClock.Instant, decoder: inout FrameDecoder
    ) -> Result<ConnectResponse, AttemptEnd> {
        let request = core.makeConnectRequest()
        do {
            try socket.writeAll(Frame.encode(request.juteBytes()), timeout: deadline - .now)
        } catch {
            return .failure(.failed(ZooKeeperError(.connectionLoss, message: "handshake write failed", underlying: error)))
        }
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
            let left = deadline - .now
            guard left > .zero else {
                return .failure(.failed(ZooKeeperError(.connectionLoss, message: "handshake timed out")))
            }
            var fds = [pollfd(fd: socket.fd, events: Poller.readable, revents: 0),
                       pollfd(fd: core.wakeup.readFD, events: Poller.readable, revents: 0)]
            do { _ = try Poller.poll(&fds, timeout: left) } catch {
                return .failure(.failed(ZooKeeperError(.connectionLoss, underlying: error)))
            }
            if fds[1].revents != 0 {
                core.wakeup.drain()
                if core.isTerminated { return .failure(.ended) }
            }
            guard fds[0].revents != 0 else { continue }
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
        _ core: ClientCore, socket: Socket, decoder: inout FrameDecoder, priming: [UInt8],
        sessionTimeout: Duration, lastContact: inout ContinuousClock.Instant
    ) -> AttemptEnd {
        // The Java client's timers: a silent server is dead after 2/3 of the session timeout; ping
        // when nothing was sent for half of that (at most every 10 s).
        let readTimeout = sessionTimeout * 2 / 3
        let pingInterval = min(readTimeout / 2, .seconds(10))
        var pending = priming
        var offset = 0
        var lastSend = ContinuousClock.now
        var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if core.isTerminated { return .ended }
            let more = core.takeOutbound()
            if !more.isEmpty {
                if offset == pending.count { pending = more; offset = 0 } else { pending.append(contentsOf: more) }
            }
            if offset < pending.count {
                do {
                    let written = try socket.write(pending, from: offset)
                    if written > 0 { lastSend = .now }
                    offset += written
                } catch {
                    return .lost(ZooKeeperError(.connectionLoss, message: "write failed", underlying: error))
                }
                if offset == pending.count {
                    pending.removeAll(keepingCapacity: pending.capacity <= 1 << 20)
                    offset = 0
                }
            }
            let now = ContinuousClock.now
            let silent = lastContact.duration(to: now)
            if silent > readTimeout {
                return .lost(ZooKeeperError(.connectionLoss, message: "no reply from the server for \(silent) (read timeout \(readTimeout))"))
            }
            let idleSend = lastSend.duration(to: now)
            if idleSend >= pingInterval {
                pending.append(contentsOf: pingFrame)
                core.notePingSent(at: now)
                lastSend = now
                continue
            }
            let wait = min(readTimeout - silent, pingInterval - idleSend)
            let wantWrite = offset < pending.count
            var fds = [pollfd(fd: socket.fd, events: Poller.readable | (wantWrite ? Poller.writable : 0), revents: 0),
                       pollfd(fd: core.wakeup.readFD, events: Poller.readable, revents: 0)]
            do { _ = try Poller.poll(&fds, timeout: wait) } catch {
                return .lost(ZooKeeperError(.connectionLoss, underlying: error))
            }
            if fds[1].revents != 0 { core.wakeup.drain() }
            guard fds[0].revents & (Poller.readable | Poller.failed) != 0 else { continue }
            var endOfFile = false
            readLoop: for _ in 0..<16 {
                do {
                    switch try socket.read(into: &readBuffer) {
                    case let .bytes(count):
                        decoder.append(readBuffer[0..<count])
                        lastContact = .now
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
                if !frames.isEmpty { _ = process(core, frames: frames) }
                return .lost(ZooKeeperError(.connectionLoss, message: "bad frame from the server", underlying: error))
            }
            if !frames.isEmpty, let end = process(core, frames: frames) { return end }
            if endOfFile {
                return .lost(ZooKeeperError(.connectionLoss, message: "the server closed the connection"))
            }
        }
    }

    private static func process(_ core: ClientCore, frames: [[UInt8]]) -> AttemptEnd? {
        let (outcome, effects) = core.handle(frames: frames, now: .now)
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
