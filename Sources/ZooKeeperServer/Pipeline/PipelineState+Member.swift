import ZooKeeperProtocol

/// An ensemble member's client side (Apache's Follower/LeaderZooKeeperServer request path): reads are
/// answered from the member's copy of the committed database; writes, `sync` and new sessions go to the
/// leader through the role and are answered when their commit comes back; watches fire as commits apply.
/// Sessions are the leader's: it expires them (this member reports its clients' activity) and every member
/// derives the same password for a session, so a client may move to any member.
extension PipelineState {
    var isMember: Bool { member != nil }

    // MARK: Clients

    func memberConnect(_ connection: UInt64, info: ConnectionInfo, request: ConnectRequest, timeout: Int32, sentReadOnly: Bool) {
        let id = request.sessionId
        let answer = MemberHandshake.of(request, on: connection, readOnly: isReadOnly, serving: member?.serving != nil,
                                        passwordMatches: passwords.matches(request.passwd, sessionID: id),
                                        revalidating: member?.revalidating[id]?.connection)
        if answer == .readOnly {
            readOnlyConnect(connection, info: info, request: request, timeout: timeout, sentReadOnly: sentReadOnly)
            return
        }
        connections[connection] = info
        let handshake = PendingHandshake(connection: connection, timeout: timeout, sentReadOnly: sentReadOnly)
        switch answer {
        case .readOnly:
            break  // answered above
        case .notServing:
            close(connection)
        case .createSession:
            let id = sessions.allocateSessionID()
            var body = JuteWriter(capacity: 4)
            body.write(timeout)
            var creating = handshake
            creating.creationStarted = .now
            member?.connecting[id] = creating
            member?.held[connection] = []
            let create = ClientRequest(sessionId: id, cxid: 0, opCode: .createSession, body: body.bytes, authIds: [])
            if member?.link.forward(create) != true {
                member?.connecting[id] = nil
                close(connection)
            }
        case .expired:
            send(connection, FinalProcessor.expiredConnectResponse(sentReadOnly: sentReadOnly))
            close(connection)
        case let .revalidate(replacing):
            if let earlier = replacing { close(earlier) }
            member?.revalidating[id] = handshake
            member?.held[connection] = []
            if member?.link.revalidate(session: id, timeout: timeout) != true {
                member?.revalidating[id] = nil
                close(connection)
            }
        }
    }

    func memberRequest(_ connection: UInt64, session: Int64, header: RequestHeader, opCode: OpCode, body: [UInt8], authIds: [Id]) {
        if isReadOnly {
            readOnlyRequest(connection, session: session, header: header, opCode: opCode, body: body, authIds: authIds)
            return
        }
        guard let timeout = sessions.sessions[session]?.timeout, member?.serving != nil else {
            close(connection)
            return
        }
        member?.activity.touch(session, timeout: timeout)
        let request = ClientRequest(sessionId: session, cxid: header.xid, opCode: opCode, body: body, authIds: authIds)
        let kind: CommitQueue<MemberRequest>.Kind = opCode == .sync ? .sync : (ZooKeeperDatabase.logsTxn(opCode) ? .write : .read)
        if kind != .write, member?.movedAway.contains(session) == true {
            // SESSIONMOVED is a connection-level error (ZOOKEEPER-710): closed unanswered, as the refused write.
            log.info("closing the connection of session 0x\(String(UInt64(bitPattern: session), radix: 16)): another member serves it now (session moved)")
            close(connection)
            return
        }
        let entry = CommitQueue.Entry(session: session, cxid: header.xid, kind: kind, request: MemberRequest(connection: connection, request: request))
        perform(member?.queue.submit(entry) ?? [])
    }

    /// Holds a request that arrived before its connection's handshake was answered; false if none is pending.
    func memberHold(_ event: NetworkEvent, connection: UInt64) -> Bool {
        guard member?.held[connection] != nil else { return false }
        member?.held[connection]?.append(event)
        return true
    }

    /// The connection closed: its session's outstanding requests need no answer any more.
    func memberClosed(_ connection: UInt64, session: Int64?) {
        member?.held[connection] = nil
        if let session { member?.queue.drop(session) }
        // Keys first, then removals: holding a copy of a table while mutating it would copy it whole.
        let connecting = member?.connecting.filter { $0.value.connection == connection }.map(\.key) ?? []
        for id in connecting { member?.connecting[id] = nil }
        let revalidating = member?.revalidating.filter { $0.value.connection == connection }.map(\.key) ?? []
        for id in revalidating { member?.revalidating[id] = nil }
    }

    // MARK: What the role reports

    /// From now until ``memberStopServing()`` this side owns the member's committed database: it applies each
    /// commit (the role keeps no copy of its own) and counts them toward `storage`'s snapshots.
    func memberStartServing(_ database: ZooKeeperDatabase, state: QuorumPeerState, epoch: Int64, storage: QuorumStorage? = nil) {
        memberStopReadOnly()  // Normally stopped already, when the election ended.
        self.database = database
        member?.serving = (state, epoch)
        member?.storage = storage
        reportDigestMismatches()
        log.info("serving clients as \(member?.mode ?? "?") in epoch \(epoch) at zxid 0x\(String(database.lastProcessedZxid, radix: 16))")
    }

    /// Logs the digest mismatches counted since the last report (rate-limited as Apache's).
    func reportDigestMismatches() {
        for line in digestMismatchLog.report(database.tree.digestStatistics, now: monotonicNow) {
            switch line {
            case let .error(text): log.error(text)
            case let .warning(text): log.warning(text)
            }
        }
    }

    /// Returns the committed database, with every commit reported before, to the role that ends (nil if no
    /// role served); this side keeps none, so the next role's sync does not copy the tree a second time.
    @discardableResult
    func memberStopServing() -> ZooKeeperDatabase? {
        guard member?.serving != nil else { return nil }
        member?.serving = nil
        member?.storage = nil
        member?.queue.reset()
        member?.connecting = [:]
        member?.revalidating = [:]
        member?.held = [:]
        member?.movedAway = []
        // Apache shuts its ZooKeeperServer down: every client connection closes and reconnects elsewhere.
        for connection in connections.keys { close(connection) }
        sessions = SessionTracker(tickTime: configuration.tickTime, serverID: configuration.serverID ?? 0, now: wallNow)
        log.info("stopped serving clients: the role ended")
        return releaseDatabase()
    }

    /// Hands the database over and keeps an empty one with the same settings (what the four-letter words
    /// see between roles, where they answer "not currently serving"). The watches stay behind: they belong
    /// to this side's connections, which are closing (their own cleanup will only find the empty one).
    func releaseDatabase() -> ZooKeeperDatabase {
        var released = database
        database = released.carryingSettings(to: ZooKeeperDatabase())
        released.removeAllWatches()
        return released
    }

    func memberCommitted(_ txn: LoggedTxn) {
        guard member?.serving != nil else { return }
        let result = database.applyCommitted(txn)
        member?.storage?.committed(database)
        if txn.digest != nil { reportDigestMismatches() }
        let session = txn.header.clientId
        deliver(result.notifications)
        switch txn.body {
        case let .createSession(body):
            guard let handshake = member?.connecting.removeValue(forKey: session), connections[handshake.connection] != nil else { return }
            admit(session, timeout: body.timeOut, handshake)
            return
        default:
            break
        }
        perform(member?.queue.committed(session: session, cxid: txn.header.cxid) ?? [], result: result,
                sessionMoved: txn.body.isSessionMoved)
        if case .closeSession = txn.body {
            // Expired by the leader, or closed from another member: its connection here (if any) goes too.
            if let connection = sessions.sessions[session]?.connectionID { close(connection) }
            sessions.remove(session)
            member?.queue.drop(session)
            member?.movedAway.remove(session)
        }
    }

    func memberSyncCompleted() {
        perform(member?.queue.syncCompleted() ?? [])
    }

    func memberSessionMovedAway(_ session: Int64) {
        guard member?.serving?.state == .leading else { return }
        member?.movedAway.insert(session)
    }

    func memberRevalidated(session: Int64, valid: Bool) {
        member?.movedAway.remove(session)  // the leader's answer to our own REVALIDATE: ours again (or gone)
        guard let handshake = member?.revalidating.removeValue(forKey: session), connections[handshake.connection] != nil else { return }
        guard valid else {
            member?.held[handshake.connection] = nil
            send(handshake.connection, connectResponse(timeout: 0, session: 0, password: [UInt8](repeating: 0, count: 16),
                                                       sentReadOnly: handshake.sentReadOnly))
            close(handshake.connection)
            return
        }
        if let old = sessions.sessions[session]?.connectionID, old != handshake.connection {
            // The session moves within this member: the old connection closes, its watches go.
            connections[old]?.sessionID = nil
            database.removeWatches(ofSession: session)
            member?.queue.drop(session)
            close(old)
        }
        admit(session, timeout: handshake.timeout, handshake)
    }

    /// The handshake succeeds: the session is served on this connection.
    private func admit(_ session: Int64, timeout: Int32, _ handshake: PendingHandshake) {
        if sessions.sessions[session] == nil { sessions.add(id: session, timeout: timeout, now: monotonicNow) }
        if let started = handshake.creationStarted {
            received(handshake.connection, at: started, isUpdate: true)  // createSession, as Apache's Final counts it
        }
        sessions.setConnection(session, handshake.connection)
        connections[handshake.connection]?.sessionID = session
        member?.activity.touch(session, timeout: timeout)
        send(handshake.connection, connectResponse(timeout: timeout, session: session, password: passwords.password(for: session),
                                                   sentReadOnly: handshake.sentReadOnly))
        // Now the requests the client sent right behind its handshake, in order.
        for event in member?.held.removeValue(forKey: handshake.connection) ?? [] { handle(event) }
    }

    // MARK: Actions

    /// `sessionMoved`: the completed write was refused because the leader counts its session as another
    /// member's (see ``memberCommitted(_:)``).
    private func perform(_ actions: [CommitQueue<MemberRequest>.Action], result: ProcessResult? = nil, sessionMoved: Bool = false) {
        for action in actions {
            switch action {
            case let .read(entry), let .synced(entry):
                answerLocally(entry.request)
            case let .forward(entry):
                if member?.link.forward(entry.request.request) != true { close(entry.request.connection) }
            case let .complete(entry):
                guard let result else { continue }
                let connection = entry.request.connection
                if sessionMoved {
                    // A connection-level error, as Apache's FinalRequestProcessor treats it (ZOOKEEPER-710): closed,
                    // not answered. The client reconnects, and its REVALIDATE makes the member it lands on the
                    // session's owner again. Answering instead left a client whose takeover raced its own
                    // reconnection refused on every write, for as long as it stayed.
                    log.info("closing the connection of session 0x\(String(UInt64(bitPattern: entry.session), radix: 16)): the leader counts it as another member's (session moved)")
                    close(connection)
                    continue
                }
                connections[connection]?.lastZxid = result.replyZxid
                reply(connection, xid: entry.cxid, zxid: result.replyZxid, err: result.err, body: result.response)
                if entry.request.request.opCode == .closeSession { close(connection) }
            case let .mismatch(session, expected, got):
                log.warning("Got cxid 0x\(String(got, radix: 16)) but the next pending request of session 0x\(String(UInt64(bitPattern: session), radix: 16)) is 0x\(String(expected, radix: 16))")
            }
        }
    }

    /// A read (or a `sync` whose turn came, or a ping) answered from the member's database.
    func answerLocally(_ held: MemberRequest) {
        let connection = held.connection
        let request = held.request
        if request.opCode == .ping {  // answered with the ping xid whatever xid it came with, as Apache
            send(connection, FinalProcessor.pingReply(zxid: database.lastProcessedZxid))
            return
        }
        let result = database.process(request, zxid: nextZxid, now: wallNow)
        let answer = FinalProcessor.answer(result, xid: request.cxid, connectionOf: connectionServing, authIdsOf: authIds)
        send(answer.notifications)
        connections[connection]?.lastZxid = answer.lastZxid
        send(connection, answer.reply)
        if answer.close { close(connection) }
    }
}
