import ZooKeeperProtocol

/// The gate of Apache's `PrepRequestProcessor` (with `ZooKeeperServer.submitRequest`'s session check): where a
/// client request goes, decided before anything is applied.
///
/// Pure: the driver passes what its tables say (whether the connection has a session, whether the session
/// is still alive) and acts on the route; nothing here touches a table, the database or the network.
enum PrepProcessor {
    /// Who the server is serving as.
    enum Mode: Sendable, Equatable {
        /// A lone server: it applies requests and expires sessions itself.
        case standalone
        /// An ensemble member (read-only included): its requests are ordered per session, writes go to the
        /// leader, and its sessions are the leader's to expire.
        case member
    }

    /// What the connection and session tables say about the request's sender.
    enum Session: Sendable, Equatable {
        /// The connection has no session: its handshake was not answered (or refused).
        case none
        /// The session is alive; the request counted as its activity.
        case alive(Int64)
        /// The connection still names a session the table no longer has (expired, closed, or reset with a role).
        case gone(Int64)
    }

    /// What happens to the request.
    enum Route: Sendable, Equatable {
        /// A request before a successful handshake: drop the connection, no answer.
        case abort
        /// Standalone: the session expired — SESSIONEXPIRED at the last zxid, then close.
        case sessionExpired
        /// Member: not this member's to say the session is gone — drop the connection unanswered; the client
        /// learns the session's fate from the leader when it reconnects.
        case drop
        /// Member: the per-session order (Apache's CommitProcessor, ``CommitQueue``), pings included.
        case commitQueue(session: Int64)
        /// Answer the ping with the last applied zxid.
        case ping
        /// An `auth` packet (``authenticate(_:remoteHost:superDigest:)``).
        case auth
        /// Standalone: end the session (a closeSession txn), answer, close.
        case closeSession(Int64)
        /// A server-internal opcode sent by a client: UNIMPLEMENTED at zxid -1, then close.
        case refuse
        /// Standalone: apply to the database and answer.
        case apply(session: Int64)
    }

    /// The route of a request of `header` from a sender the tables describe as `session`.
    static func route(_ header: RequestHeader, session: Session, mode: Mode) -> Route {
        let id: Int64
        switch session {
        case .none: return .abort
        case .gone: return mode == .member ? .drop : .sessionExpired
        case let .alive(alive): id = alive
        }
        let opCode = OpCode(rawValue: header.type)
        let internalOp = opCode == .deleteContainer || opCode == .createSession
        // By type, as Apache's `ZooKeeperServer.processPacket` and `FinalRequestProcessor` decide: an auth
        // packet is one of type auth whatever its xid, a create sent with the ping xid is a create.
        if mode == .member, opCode != .auth, !internalOp { return .commitQueue(session: id) }
        switch opCode {
        case .ping: return .ping
        case .auth: return .auth
        default: break
        }
        if opCode == .closeSession { return .closeSession(id) }
        if internalOp { return .refuse }
        return .apply(session: id)
    }

    /// What an `auth` packet does to its connection.
    enum Authentication: Sendable, Equatable {
        /// Undecodable: drop the connection.
        case malformed
        /// Add these ids to the connection, in order, and answer OK.
        case granted([Id])
        /// Nothing to add and no answer (the connection is gone).
        case ignored
        /// An unknown scheme: AUTHFAILED, then close.
        case failed
    }

    /// Apache's authentication providers for `digest` and `ip`.
    static func authenticate(_ body: [UInt8], remoteHost: String?, superDigest: String?) -> Authentication {
        guard let packet = try? AuthPacket(juteBytes: body) else { return .malformed }
        switch packet.scheme {
        case "digest":
            // DigestAuthenticationProvider: any text is an identity, `user` being what precedes the
            // first colon (all of it when there is none); the digest covers the whole text.
            let text = String(decoding: packet.auth, as: UTF8.self)
            let user = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let id = Id(scheme: "digest", id: "\(user):\(Base64.encode(SHA1.hash(Array(text.utf8))))")
            if let superDigest, id.id == superDigest { return .granted([Id(scheme: "super", id: ""), id]) }
            return .granted([id])
        case "ip":
            // IPAuthenticationProvider ignores the credentials: the id is the connection's address,
            // which every connection already has.
            guard let remoteHost else { return .ignored }
            return .granted([Id(scheme: "ip", id: remoteHost)])
        default:
            return .failed
        }
    }

    /// The session timeout a handshake gets: what the client asked, within the server's bounds.
    static func negotiatedTimeout(_ requested: Int32, min minimum: Int, max maximum: Int) -> Int32 {
        Int32(min(max(Int(requested), minimum), maximum))
    }

    /// The path a request names, if it names one (every path-bearing request starts with its path).
    static func path(of opCode: OpCode, body: [UInt8]) -> String? {
        var reader = JuteReader(body)
        return try? reader.readString()
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
