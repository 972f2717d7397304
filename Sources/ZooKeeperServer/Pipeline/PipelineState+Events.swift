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
            pendingLatencies.append((connection, receivedAt))
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
        var writer = JuteWriter(capacity: 48)
        writer.write(Int32(0))
        writer.write(timeout)
        writer.write(session)
        writer.writeBuffer(password)
        if sentReadOnly { writer.write(readOnly) }
        return Frame.encode(writer.bytes)
    }

    private func handleConnect(_ connection: UInt64, remote: String, request: ConnectRequest, sentReadOnly: Bool) {
        statistics.packetsReceived += 1
        var info = ConnectionInfo(id: connection, remote: remote, established: wallNow)
        info.addAuthId(Id(scheme: "ip", id: info.remoteHost))
        info.received = 1
        if faults.partitioned.contains(request.sessionId) {
            // A partition is a black hole: the handshake goes unanswered and the client's connect
            // timeout fires. Closing instead would look like Apache's "client zxid ahead" refusal,
            // which a client may rightly treat as terminal for a lone server.
            return
        }
        if request.lastZxidSeen > database.lastProcessedZxid {
            // Apache closes the socket without a reply: the client must try a server that has caught up.
            log.info("Refusing session(0x\(String(UInt64(bitPattern: request.sessionId), radix: 16))) request for client /\(remote) as it has seen zxid 0x\(String(request.lastZxidSeen, radix: 16)) our last zxid is 0x\(String(database.lastProcessedZxid, radix: 16)) client must try another server")
            abort(connection)
            return
        }
        let timeout = Int32(min(max(Int(request.timeOut), configuration.effectiveMinSessionTimeout),
                                configuration.effectiveMaxSessionTimeout))
        if isMember {
            memberConnect(connection, info: info, request: request, timeout: timeout, sentReadOnly: sentReadOnly)
            return
        }
        if request.sessionId == 0 {
            let id = sessions.allocateSessionID()
            let txn = database.createSession(sessionId: id, timeout: timeout, zxid: nextZxid, now: wallNow)
            logTransaction(txn)
            sessions.add(id: id, timeout: timeout, now: monotonicNow)
            sessions.setConnection(id, connection)
            info.sessionID = id
            connections[connection] = info
            send(connection, connectResponse(timeout: timeout, session: id, password: passwords.password(for: id),
                                             sentReadOnly: sentReadOnly))
            return
        }
        let id = request.sessionId
        guard let existing = sessions.sessions[id], !existing.isClosing,
              passwords.matches(request.passwd, sessionID: id)
        else {
            // An unknown, expired or wrong-password session: timeOut 0 means "expired"; then close.
            connections[connection] = info
            send(connection, connectResponse(timeout: 0, session: 0, password: [UInt8](repeating: 0, count: 16),
                                             sentReadOnly: sentReadOnly))
            close(connection)
            return
        }
        sessions.touch(id, now: monotonicNow)
        if let old = existing.connectionID, old != connection {
            // The session moves: the old connection is closed (DisconnectReason.CLIENT_RECONNECT).
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

    func reply(_ connection: UInt64, xid: Int32, zxid: Int64, err: ZooKeeperErrorCode, body: [UInt8] = []) {
        var writer = JuteWriter(capacity: 16 + body.count)
        writer.write(ReplyHeader(xid: xid, zxid: zxid, err: err.rawValue))
        if err == .ok { writer.writeRaw(body) }
        send(connection, Frame.encode(writer.bytes))
    }

    private func handleRequest(_ connection: UInt64, header: RequestHeader, body: [UInt8]) {
        statistics.packetsReceived += 1
        guard var info = connections[connection], let sessionID = info.sessionID else {
            abort(connection)  // a request before a successful handshake
            return
        }
        info.received += 1
        info.lastCxid = header.xid
        let opCode = OpCode(rawValue: header.type)
        info.lastOperation = Self.shortName(opCode)
        connections[connection] = info
        guard sessions.touch(sessionID, now: monotonicNow) else {
            if isMember {
                // Not this member's to say: its role ended (the session table was reset) or the leader closed
                // the session, and the connection's close is still on its way. Apache's follower answers
                // nothing there (its ZooKeeperServer is down, or the connection closed with the session); the
                // client reconnects and learns the session's fate from the leader. An expiry answered here
                // told live sessions they were gone: a lock's release gave up, its node stayed, and every
                // waiter hung (zk-matrix, locks × leader-killed on a Shepherd ensemble).
                abort(connection)
                return
            }
            reply(connection, xid: header.xid, zxid: database.lastProcessedZxid, err: .sessionExpired)
            close(connection)
            return
        }
        if isMember, header.xid != ReservedXid.auth, opCode != .deleteContainer, opCode != .createSession {
            // Ordered per session behind its outstanding writes, pings included (Apache's CommitProcessor).
            memberRequest(connection, session: sessionID, header: header, opCode: opCode, body: body, authIds: info.authIds)
            return
        }
        switch header.xid {
        case ReservedXid.ping:
            reply(connection, xid: ReservedXid.ping, zxid: database.lastProcessedZxid, err: .ok)
            return
        case ReservedXid.auth:
            handleAuth(connection, body: body)
            return
        default: break
        }
        if opCode == .closeSession {
            let zxid = nextZxid
            endSession(sessionID, closingConnection: false)
            reply(connection, xid: header.xid, zxid: zxid, err: .ok)
            close(connection)
            return
        }
        if opCode == .deleteContainer || opCode == .createSession {
            // Server-internal opcodes: never accepted from a client.
            reply(connection, xid: header.xid, zxid: -1, err: .unimplemented)
            close(connection)
            return
        }
        let request = ClientRequest(sessionId: sessionID, cxid: header.xid, opCode: opCode, body: body,
                                    authIds: info.authIds)
        let result = database.process(request, zxid: nextZxid, now: wallNow)
        if let txn = result.txn { logTransaction(txn) }
        for warning in result.quotaWarnings { log.warning(warning) }
        // Apache sends the notifications a write triggers before that write's reply.
        deliver(result.notifications)
        if let lose = faults.loseNextReply, lose(opCode, Self.path(of: opCode, body: body)) {
            faults.loseNextReply = nil
            abort(connection)
            return
        }
        connections[connection]?.lastZxid = result.replyZxid
        // A refused opcode is answered as Apache's UnimplementedRequestProcessor does: zxid -1, then close.
        reply(connection, xid: header.xid, zxid: result.closeConnection ? -1 : result.replyZxid, err: result.err,
              body: result.response)
        if result.closeConnection { close(connection) }
    }

    private func handleAuth(_ connection: UInt64, body: [UInt8]) {
        guard let packet = try? AuthPacket(juteBytes: body) else {
            abort(connection)
            return
        }
        switch packet.scheme {
        case "digest":
            // DigestAuthenticationProvider: any text is an identity, `user` being what precedes the
            // first colon (all of it when there is none); the digest covers the whole text.
            let text = String(decoding: packet.auth, as: UTF8.self)
            let user = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let id = Id(scheme: "digest", id: "\(user):\(Base64.encode(SHA1.hash(Array(text.utf8))))")
            if let superDigest = configuration.superDigest, id.id == superDigest {
                connections[connection]?.addAuthId(Id(scheme: "super", id: ""))
            }
            connections[connection]?.addAuthId(id)
            reply(connection, xid: ReservedXid.auth, zxid: 0, err: .ok)
        case "ip":
            // IPAuthenticationProvider ignores the credentials: the id is the connection's address,
            // which every connection already has.
            guard let host = connections[connection]?.remoteHost else { return }
            connections[connection]?.addAuthId(Id(scheme: "ip", id: host))
            reply(connection, xid: ReservedXid.auth, zxid: 0, err: .ok)
        default:
            authFailed(connection)
        }
    }

    /// Apache answers AUTHFAILED and then closes the connection.
    private func authFailed(_ connection: UInt64) {
        reply(connection, xid: ReservedXid.auth, zxid: 0, err: .authFailed)
        close(connection)
    }

    static func path(of opCode: OpCode, body: [UInt8]) -> String? {
        var reader = JuteReader(body)
        return try? reader.readString()  // every path-bearing request starts with its path
    }

    /// The short names `cons` prints for `lop` (Apache's Request.op2String).
    static func shortName(_ opCode: OpCode) -> String {
        switch opCode {
        case .ping: return "PING"
        case .getData: return "GETD"
        case .setData: return "SETD"
        case .create, .create2, .createContainer, .createTTL: return "CREA"
        case .delete: return "DELE"
        case .exists: return "EXIS"
        case .getChildren, .getChildren2: return "GETC"
        case .multi: return "MULT"
        case .sync: return "SYNC"
        case .closeSession: return "CLOS"
        case .setWatches, .setWatches2: return "SETW"
        default: return opCode.description.uppercased().prefix(4).description
        }
    }
}
