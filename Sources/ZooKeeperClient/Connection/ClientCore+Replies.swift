import Synchronization
import ZooKeeperProtocol

extension ClientCore {
    /// What processing a batch of frames asks the I/O thread to do next.
    enum FrameOutcome {
        case keepGoing
        /// The server broke the protocol: drop this connection.
        case dropConnection(ZooKeeperError)
        /// The session is over (auth failed).
        case terminated
    }

    /// Matches a batch of reply frames to their requests, fires watches, tracks zxids and pings.
    /// `proof` is the latest instant at (or after) which the replies show the server heard from us:
    /// a ping's send time, a request's enqueue time (watch notifications prove nothing).
    func handle(frames: [[UInt8]], now: ContinuousClock.Instant) -> (outcome: FrameOutcome, effects: [CoreEffect], proof: ContinuousClock.Instant?) {
        var outcome = FrameOutcome.keepGoing
        var authFailure: ZooKeeperError?
        var proof: ContinuousClock.Instant?
        func prove(_ instant: ContinuousClock.Instant) { if proof.map({ instant > $0 }) ?? true { proof = instant } }
        var effects = state.withLock { state -> [CoreEffect] in
            var effects: [CoreEffect] = []
            for frame in frames {
                var reader = JuteReader(frame, maxLength: configuration.maxFrameLength)
                let header: ReplyHeader
                do { header = try ReplyHeader(from: &reader) } catch {
                    outcome = .dropConnection(ZooKeeperError(.protocolViolation, message: "undecodable reply header", underlying: error))
                    return effects
                }
                switch header.xid {
                case ReservedXid.notification:
                    do {
                        let event = try WatcherEvent(from: &reader)
                        let clientPath = chroot.clientPath(event.path)
                        // Tools count these (lock-demo's herd-effect figure): keep the prefix stable.
                        if log.isEnabled {
                            effects.append(.log(.debug, "watch notification: type \(event.type) path \(clientPath)"))
                        }
                        effects += state.watches.trigger(event, clientPath: clientPath).map(CoreEffect.deliver)
                    } catch {
                        outcome = .dropConnection(ZooKeeperError(.protocolViolation, message: "undecodable watch event", underlying: error))
                        return effects
                    }
                case ReservedXid.ping:
                    if let sent = state.pingSentAt {
                        state.lastPingRoundTrip = sent.duration(to: now)
                        prove(sent)
                    }
                    state.pingSentAt = nil
                    state.serverZxid = header.zxid
                case ReservedXid.auth:
                    let waiter = state.authWaiters.isEmpty ? nil : state.authWaiters.removeFirst()?.waiter
                    if header.err != 0 {
                        let error = ZooKeeperError(ZooKeeperErrorCode(rawValue: header.err), message: "authentication failed")
                        authFailure = error
                        // The waiter is off the list now, so terminate() cannot fail it: do it here.
                        if let waiter { effects.append(.resume(waiter, .failure(error))) }
                        return effects
                    }
                    if let waiter { effects.append(.resume(waiter, .success(RawReply(zxid: header.zxid, err: .ok, body: [])))) }
                case ReservedXid.setWatches:
                    if header.err != 0 {
                        effects.append(.log(.warning, "SetWatches failed: \(ZooKeeperErrorCode(rawValue: header.err))"))
                    }
                default:
                    guard let expected = state.inFlight.first?.xid else {
                        outcome = .dropConnection(ZooKeeperError(.protocolViolation, message: "reply xid \(header.xid) with no request outstanding"))
                        return effects
                    }
                    guard expected == header.xid, let pending = state.inFlight.popFirst() else {
                        // Left in the FIFO: the drop fails it with every other outstanding request, after
                        // the state has left `.connected` (a request made in between cannot slip onto
                        // the broken connection and fail with this connection's error).
                        outcome = .dropConnection(ZooKeeperError(.protocolViolation, message: "xid out of order: expected \(expected), got \(header.xid)"))
                        return effects
                    }
                    prove(pending.enqueuedAt)
                    if pending.opCode == .closeSession { state.closeSessionAnswered = true }
                    // lastZxidSeen comes only from reply headers with zxid > 0 (never from notifications).
                    if header.zxid > 0 { state.lastZxidSeen = header.zxid }
                    let err = ZooKeeperErrorCode(rawValue: header.err)
                    if let watch = pending.watch { state.watches.settle(watch, err: err) }
                    effects.append(.resume(pending.waiter, .success(RawReply(zxid: header.zxid, err: err, body: reader.readRemaining()))))
                }
            }
            return effects
        }
        if let authFailure {
            effects += terminate(authFailure, reason: .authFailed)
            outcome = .terminated
        }
        return (outcome, effects, proof)
    }

    /// Records that a ping left now.
    func notePingSent(at now: ContinuousClock.Instant) {
        state.withLock { state in
            if state.pingSentAt == nil { state.pingSentAt = now }
        }
    }
}
