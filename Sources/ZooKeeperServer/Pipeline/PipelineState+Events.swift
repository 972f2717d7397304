import ZooKeeperProtocol

extension PipelineState {
    func handle(_ event: NetworkEvent) {
        if faults.pausedUntil != nil {
            faults.deferred.append(event)
            return
        }
        switch event {
        case let .connect(connection, remote, request, sentReadOnly):
            handleConnect(connection, remote: remote, request: request, sentReadOnly: sentReadOnly)
        case let .request(connection, header, body, receivedAt):
            if isMember, memberHold(event, connection: connection) { return }
            handleRequest(connection, header: header, body: body)
            received(connection, at: receivedAt, opCode: OpCode(rawValue: header.type))
        case let .fourLetterWord(connection, remote, command):
            // Apache counts and lists the asking connection itself (srvr's Connections, cons).
            var info = ConnectionInfo(id: connection, remote: remote, established: wallNow)
            info.received = 1
            connections[connection] = info
            let answer = Array(fourLetterWordResponse(command).utf8)
            let sizes = statistics.responseSizes  // a four-letter word is no client response to Apache
            send(connection, answer)
            statistics.responseSizes = sizes
            connections[connection]?.sent = 0
            close(connection)
        case let .closed(connection):
            guard let info = connections.removeValue(forKey: connection) else { return }
            // Watches belong to the connection (as Apache's ServerCnxn): the client re-registers them
            // with SetWatches when it reconnects. Only if this connection still serves the session.
            if let id = info.sessionID, sessions.sessions[id]?.connectionID == connection {
                sessions.setConnection(id, nil)
                database.removeWatches(ofSession: id)
                if isMember { memberClosed(connection, session: id) }
            } else if isMember {
                memberClosed(connection, session: nil)
            }
        }
    }

    func connectResponse(timeout: Int32, session: Int64, password: [UInt8], sentReadOnly: Bool, readOnly: Bool = false) -> [UInt8] {
        FinalProcessor.connectResponse(timeout: timeout, session: session, password: password, sentReadOnly: sentReadOnly,
                                       readOnly: readOnly)
    }

    /// Routes a handshake (``PrepProcessor/handshake(_:partitioned:lastZxid:mode:minTimeout:maxTimeout:)``) and acts on it.
    private func handleConnect(_ connection: UInt64, remote: String, request: ConnectRequest, sentReadOnly: Bool) {
        statistics.packetsReceived += 1
        metrics.record { $0.connectionRequestCount += 1 }
        var info = ConnectionInfo(id: connection, remote: remote, established: wallNow)
        info.addAuthId(Id(scheme: "ip", id: info.remoteHost))
        info.received = 1
        let route = PrepProcessor.handshake(request, partitioned: faults.partitioned.contains(request.sessionId),
                                            lastZxid: database.lastProcessedZxid, mode: isMember ? .member : .standalone,
                                            minTimeout: configuration.effectiveMinSessionTimeout,
                                            maxTimeout: configuration.effectiveMaxSessionTimeout)
        switch route {
        case .unanswered:
            return  // a partition is a black hole
        case .refuseBehind:
            log.info("Refusing session(0x\(String(UInt64(bitPattern: request.sessionId), radix: 16))) request for client /\(remote) as it has seen zxid 0x\(String(request.lastZxidSeen, radix: 16)) our last zxid is 0x\(String(database.lastProcessedZxid, radix: 16)) client must try another server")
            abort(connection)
        case let .member(timeout):
            if request.sessionId != 0 { metrics.record { $0.connectionRevalidateCount += 1 } }
            memberConnect(connection, info: info, request: request, timeout: timeout, sentReadOnly: sentReadOnly)
        case let .create(timeout):
            let id = sessions.allocateSessionID()
            let txn = database.createSession(sessionId: id, timeout: timeout, zxid: nextZxid, now: wallNow)
            logTransaction(txn)
            sessions.add(id: id, timeout: timeout, now: monotonicNow)
            sessions.setConnection(id, connection)
            info.sessionID = id
            connections[connection] = info
            send(connection, connectResponse(timeout: timeout, session: id, password: passwords.password(for: id),
                                             sentReadOnly: sentReadOnly))
            received(connection, at: .now, isUpdate: true)  // createSession is a request with a latency in Apache's Final
        case let .resume(id, timeout):
            metrics.record { $0.connectionRevalidateCount += 1 }
            resume(id, timeout: timeout, on: connection, info: info, request: request, sentReadOnly: sentReadOnly)
        }
    }

    /// A standalone client resuming its session (``PrepProcessor/resume(_:passwordMatches:on:)``).
    private func resume(_ id: Int64, timeout: Int32, on connection: UInt64, info: ConnectionInfo, request: ConnectRequest,
                        sentReadOnly: Bool) {
        var info = info
        let matches = passwords.matches(request.passwd, sessionID: id)
        switch PrepProcessor.resume(sessions.sessions[id], passwordMatches: matches, on: connection) {
        case .refused:
            connections[connection] = info
            send(connection, FinalProcessor.expiredConnectResponse(sentReadOnly: sentReadOnly))
            close(connection)
        case let .resumed(movedFrom):
            sessions.touch(id, now: monotonicNow)
            if let old = movedFrom {
                connections[old]?.sessionID = nil
                database.removeWatches(ofSession: id)
                close(old)
            }
            sessions.setConnection(id, connection)
            info.sessionID = id
            connections[connection] = info
            send(connection, connectResponse(timeout: timeout, session: id, password: passwords.password(for: id),
                                             sentReadOnly: sentReadOnly))
        }
    }

    func reply(_ connection: UInt64, xid: Int32, zxid: Int64, err: ZooKeeperErrorCode, body: [UInt8] = []) {
        send(connection, FinalProcessor.reply(xid: xid, zxid: zxid, err: err, body: body))
    }

    /// Routes a request (``PrepProcessor``) and acts on the route.
    private func handleRequest(_ connection: UInt64, header: RequestHeader, body: [UInt8]) {
        statistics.packetsReceived += 1
        let opCode = OpCode(rawValue: header.type)
        let sender = sender(of: connection, xid: header.xid, opCode: opCode)
        switch PrepProcessor.route(header, session: sender, mode: isMember ? .member : .standalone) {
        case .abort:
            abort(connection)  // a request before a successful handshake
        case .drop:
            // Not this member's to say: its role ended (the session table was reset) or the leader closed
            // the session, and the connection's close is still on its way. Apache's follower answers
            // nothing there (its ZooKeeperServer is down, or the connection closed with the session); the
            // client reconnects and learns the session's fate from the leader. An expiry answered here
            // told live sessions they were gone: a lock's release gave up, its node stayed, and every
            // waiter hung (zk-matrix, locks × leader-killed on a Shepherd ensemble).
            abort(connection)
        case .sessionExpired:
            reply(connection, xid: header.xid, zxid: database.lastProcessedZxid, err: .sessionExpired)
            close(connection)
        case let .commitQueue(session):
            // Ordered per session behind its outstanding writes, pings included (Apache's CommitProcessor).
            memberRequest(connection, session: session, header: header, opCode: opCode, body: body,
                          authIds: authIds(connection))
        case .ping:
            send(connection, FinalProcessor.pingReply(zxid: database.lastProcessedZxid))
        case .auth:
            handleAuth(connection, xid: header.xid, body: body)
        case let .closeSession(session):
            let zxid = nextZxid
            endSession(session, closingConnection: false)
            reply(connection, xid: header.xid, zxid: zxid, err: .ok)
            close(connection)
        case .refuse:
            // Server-internal opcodes: never accepted from a client.
            reply(connection, xid: header.xid, zxid: -1, err: .unimplemented)
            close(connection)
        case let .apply(session):
            apply(connection, session: session, header: header, opCode: opCode, body: body)
        }
    }

    /// Counts the request on its connection and as its session's activity; what the tables then say
    /// about the sender.
    private func sender(of connection: UInt64, xid: Int32, opCode: OpCode) -> PrepProcessor.Session {
        guard var info = connections[connection], let sessionID = info.sessionID else { return .none }
        info.received += 1
        info.lastCxid = xid
        info.lastOperation = PrepProcessor.shortName(opCode)
        connections[connection] = info
        return sessions.touch(sessionID, now: monotonicNow) ? .alive(sessionID) : .gone(sessionID)
    }

    /// A standalone request: applied to the database, its txn logged, answered (``FinalProcessor``).
    private func apply(_ connection: UInt64, session: Int64, header: RequestHeader, opCode: OpCode, body: [UInt8]) {
        if let refuse = faults.refuse, let code = refuse(opCode, PrepProcessor.path(of: opCode, body: body)) {
            reply(connection, xid: header.xid, zxid: database.lastProcessedZxid, err: code)
            return
        }
        let request = ClientRequest(sessionId: session, cxid: header.xid, opCode: opCode, body: body,
                                    authIds: authIds(connection))
        let result = database.process(request, zxid: nextZxid, now: wallNow)
        if let txn = result.txn { logTransaction(txn) }
        for warning in result.quotaWarnings { log.warning(warning) }
        let answer = FinalProcessor.answer(result, xid: header.xid, connectionOf: connectionServing, authIdsOf: authIds)
        // Apache sends the notifications a write triggers before that write's reply.
        send(answer.notifications)
        if let lose = faults.loseNextReply, lose(opCode, PrepProcessor.path(of: opCode, body: body)) {
            faults.loseNextReply = nil
            abort(connection)
            return
        }
        connections[connection]?.lastZxid = answer.lastZxid
        send(connection, answer.reply)
        if answer.close { close(connection) }
    }

    /// Answered with the packet's own xid (`ReplyHeader(h.getXid(), …)`), -4 from every real client.
    private func handleAuth(_ connection: UInt64, xid: Int32, body: [UInt8]) {
        switch PrepProcessor.authenticate(body, remoteHost: connections[connection]?.remoteHost,
                                          superDigest: configuration.superDigest) {
        case .malformed:
            abort(connection)
        case let .granted(ids):
            for id in ids { connections[connection]?.addAuthId(id) }
            reply(connection, xid: xid, zxid: 0, err: .ok)
        case .ignored:
            break
        case .failed:
            // Apache answers AUTHFAILED and then closes the connection.
            reply(connection, xid: xid, zxid: 0, err: .authFailed)
            close(connection)
        }
    }
}
