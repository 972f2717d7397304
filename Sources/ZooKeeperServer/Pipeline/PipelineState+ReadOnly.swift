import ZooKeeperProtocol

/// A member's read-only service (Apache's `ReadOnlyZooKeeperServer`), run while it looks for a quorum
/// longer than the grace period with `readonlymode.enabled`: reads and watches from its last committed
/// database, state changes and `sync` answered NOTREADONLY, only clients that asked for a read-only server
/// admitted. New sessions only with `localSessionsEnabled` (as Apache: without it its read-only server
/// admits no new session at all), local to this member: never committed, expired here, gone when the
/// service stops. A global session reconnecting here is refused, as Apache does.
extension PipelineState {
    var isReadOnly: Bool { member?.readOnly == true }

    func memberStartReadOnly(_ database: ZooKeeperDatabase) {
        guard member?.serving == nil, member?.readOnly == false else { return }
        self.database = database
        member?.readOnly = true
        log.info("Read-only server started at zxid 0x\(String(database.lastProcessedZxid, radix: 16))")
    }

    func memberStopReadOnly() {
        guard member?.readOnly == true else { return }
        member?.readOnly = false
        _ = releaseDatabase()  // the peer's own copy; holding it would make the next sync copy the tree
        // Apache's `roZk.shutdown()`: every connection closes; the clients look for a read-write server.
        for connection in connections.keys { close(connection) }
        sessions = SessionTracker(tickTime: configuration.tickTime, serverID: configuration.serverID ?? 0, now: wallNow)
        log.info("Read-only server stopped")
    }

    func readOnlyConnect(_ connection: UInt64, info: ConnectionInfo, request: ConnectRequest, timeout: Int32, sentReadOnly: Bool) {
        connections[connection] = info
        let id = request.sessionId
        let answer = ReadOnlyHandshake.of(request, on: connection, localSessionsEnabled: configuration.localSessionsEnabled,
                                          local: sessions.sessions[id], isGlobal: database.sessions[id] != nil,
                                          passwordMatches: passwords.matches(request.passwd, sessionID: id))
        switch answer {
        case .refuseReadWriteClient:
            log.info("Refusing session request for not-read-only client /\(info.remote)")
            close(connection)
        case .refuseNewSession:
            // The same bytes as Apache's ReadOnlyRequestProcessor: no client gets a session (ReadOnlyModeTest's
            // testGlobalSessionInRO).
            log.info("Refusing a new session in read-only mode (localSessionsEnabled=false) /\(info.remote)")
            reply(connection, xid: 0, zxid: database.lastProcessedZxid, err: .notReadOnly)
        case .createLocal:
            let local = sessions.allocateSessionID()
            sessions.add(id: local, timeout: timeout, now: monotonicNow)
            admitReadOnly(local, connection: connection, timeout: timeout, sentReadOnly: sentReadOnly)
        case .refuseGlobal:
            log.info("Refusing global session reconnection in RO mode /\(info.remote)")
            close(connection)
        case .expired:
            send(connection, FinalProcessor.expiredConnectResponse(sentReadOnly: sentReadOnly, readOnly: true))
            close(connection)
        case let .resume(movedFrom):
            if let old = movedFrom {
                connections[old]?.sessionID = nil
                database.removeWatches(ofSession: id)
                close(old)
            }
            admitReadOnly(id, connection: connection, timeout: timeout, sentReadOnly: sentReadOnly)
        }
    }

    private func admitReadOnly(_ session: Int64, connection: UInt64, timeout: Int32, sentReadOnly: Bool) {
        sessions.touch(session, now: monotonicNow)
        sessions.setConnection(session, connection)
        connections[connection]?.sessionID = session
        send(connection, connectResponse(timeout: timeout, session: session, password: passwords.password(for: session),
                                         sentReadOnly: sentReadOnly, readOnly: true))
    }

    func readOnlyRequest(_ connection: UInt64, session: Int64, header: RequestHeader, opCode: OpCode, body: [UInt8], authIds: [Id]) {
        let request = ClientRequest(sessionId: session, cxid: header.xid, opCode: opCode, body: body, authIds: authIds)
        switch ReadOnlyVerdict.of(opCode) {
        case .serve:
            answerLocally(MemberRequest(connection: connection, request: request))
        case .notReadOnly:
            reply(connection, xid: header.xid, zxid: database.lastProcessedZxid, err: .notReadOnly)
        case .closeLocally:
            endReadOnlySession(session)
            reply(connection, xid: header.xid, zxid: database.lastProcessedZxid, err: .ok)
            close(connection)
        }
    }

    /// Local sessions expire here: no leader knows them.
    func expireReadOnlySessions(now: Int64) {
        for id in sessions.expired(now: now) {
            log.info("Expiring session 0x\(String(UInt64(bitPattern: id), radix: 16)), timeout exceeded")
            let connection = sessions.sessions[id]?.connectionID
            endReadOnlySession(id)
            if let connection { close(connection) }
        }
    }

    private func endReadOnlySession(_ session: Int64) {
        database.removeWatches(ofSession: session)
        sessions.remove(session)
    }
}
