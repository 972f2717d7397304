import ZooKeeperPOSIX
import Synchronization
import ZooKeeperProtocol

/// The most path bytes one SetWatches packet carries (the Java client's `SET_WATCHES_MAX_LENGTH`, ZOOKEEPER-706).
let setWatchesMaxPathBytes = 128 * 1024

extension ClientCore {
    /// The `ConnectRequest` for the next attempt: resumes the session if there is one.
    func makeConnectRequest() -> ConnectRequest {
        state.withLock { state in
            let requested = Int32(clamping: configuration.sessionTimeout.components.seconds * 1000
                + configuration.sessionTimeout.components.attoseconds / 1_000_000_000_000_000)
            // A session only read-only servers have seen is not offered again (see `seenReadWriteServer`);
            // a saved session from the configuration was made by someone who knew better.
            let resumable = state.seenReadWriteServer || configuration.session != nil
                ? state.session : nil
            return ConnectRequest(
                protocolVersion: 0,
                lastZxidSeen: state.lastZxidSeen,
                timeOut: requested,
                sessionId: resumable?.id ?? 0,
                passwd: resumable?.password ?? [UInt8](repeating: 0, count: 16),
                readOnly: configuration.allowReadOnly
            )
        }
    }

    /// The server answered the handshake. Returns the frames to send first (auth, SetWatches), or
    /// `nil` with effects when the session is over (expired).
    func handshakeSucceeded(
        _ response: ConnectResponse, server: ServerAddress
    ) -> (priming: [UInt8]?, effects: [CoreEffect]) {
        if response.timeOut <= 0 {
            let error = ZooKeeperError(.sessionExpired, message: "the server reports the session as expired")
            return (nil, terminate(error, reason: .sessionExpired))
        }
        return state.withLock { state in
            if case .terminated = state.lifecycle { return (nil, []) }
            let resumed = state.session?.id == response.sessionId
            state.session = SessionInfo(id: response.sessionId, password: response.passwd,
                                        timeoutMilliseconds: response.timeOut)
            state.currentServer = server
            var priming: [UInt8] = []
            // Credentials first, as the Java client's primeConnection does; their replies are ignored.
            // Waiters already queued belong to addAuth packets still in the outbound buffer, which is
            // sent after the priming frames: keep them, after the priming entries.
            let queued = state.authWaiters
            state.authWaiters = []
            for info in state.authentication {
                let packet = AuthPacket(type: 0, scheme: info.scheme, auth: info.auth)
                Self.appendFrame(to: &priming, xid: ReservedXid.auth, opCode: .auth, body: packet.juteBytes())
                state.authWaiters.append(nil)
            }
            state.authWaiters += queued
            Self.appendSetWatches(to: &priming, watches: state.watches, relativeZxid: state.lastZxidSeen)
            let newState: ConnectionState
            if response.readOnly {
                newState = .readOnly
            } else {
                // Not resumed after a read-only session: a new session replaced it, so `.connected`.
                newState = state.hasEverConnected && resumed ? .reconnected : .connected
            }
            state.hasEverConnected = true
            if !response.readOnly { state.seenReadWriteServer = true }
            var effects: [CoreEffect] = [.log(.info, "session \(state.session!.idHex) established with \(server), timeout \(response.timeOut) ms")]
            effects += Self.publish(&state, newState)
            return (priming, effects)
        }
    }

    /// Appends SetWatches (or SetWatches2 when persistent watches exist) packets, each holding at most
    /// ``setWatchesMaxPathBytes`` of paths.
    static func appendSetWatches(to buffer: inout [UInt8], watches: WatchRegistry, relativeZxid: Int64) {
        guard !watches.isEmpty else { return }
        let usePersistent = watches.hasPersistentWatches
        let kinds: [WatchKind] = usePersistent
            ? [.data, .exist, .child, .persistent, .persistentRecursive] : [.data, .exist, .child]
        var batch: [WatchKind: [String]] = [:]
        var batchBytes = 0
        func flush() {
            guard batchBytes > 0 || !batch.isEmpty else { return }
            let body: [UInt8]
            if usePersistent {
                body = SetWatches2(
                    relativeZxid: relativeZxid, dataWatches: batch[.data] ?? [], existWatches: batch[.exist] ?? [],
                    childWatches: batch[.child] ?? [], persistentWatches: batch[.persistent] ?? [],
                    persistentRecursiveWatches: batch[.persistentRecursive] ?? []
                ).juteBytes()
            } else {
                body = SetWatches(
                    relativeZxid: relativeZxid, dataWatches: batch[.data] ?? [], existWatches: batch[.exist] ?? [],
                    childWatches: batch[.child] ?? []
                ).juteBytes()
            }
            appendFrame(to: &buffer, xid: ReservedXid.setWatches, opCode: usePersistent ? .setWatches2 : .setWatches,
                        body: body)
            batch = [:]
            batchBytes = 0
        }
        for kind in kinds {
            for path in watches.paths(of: kind) {
                if batchBytes + path.utf8.count > setWatchesMaxPathBytes && batchBytes > 0 { flush() }
                batch[kind, default: []].append(path)
                batchBytes += path.utf8.count
            }
        }
        flush()
    }
}
