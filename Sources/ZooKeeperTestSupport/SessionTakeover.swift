import ZooKeeperClient

/// Session faults that work on any ZooKeeper server, Apache's included, by taking a session over
/// from a second connection with its id and password (what Curator's old `KillSession` did):
///
/// - the server closes the session's current connection when another connection resumes it
///   (Apache: `DisconnectReason.CLIENT_RECONNECT`; ours does the same), so a takeover alone is a
///   **dropped connection** — the owner reconnects and resumes the session;
/// - a takeover followed by `closeSession` **expires** the session — the owner's next reconnect is
///   refused with a zero timeout, as after a real expiry.
public enum SessionTakeover {
    /// Closes the connection of `session` on the server at `host:port`; the session stays alive.
    ///
    /// The owner reconnecting at the same moment (after an earlier drop) can close the takeover
    /// connection before it is answered; the takeover is then repeated, a bounded number of times.
    public static func dropConnection(of session: SessionInfo, host: String = "127.0.0.1", port: Int, attempts: Int = 10) throws {
        for _ in 0..<attempts {
            // The takeover connection closes as it goes out of scope, without closeSession: the session is
            // left to its owner, who resumes it.
            do {
                try resume(session, host: host, port: port, within: .seconds(5))
                return
            } catch is TestSupportError {
                continue  // closed unanswered by the owner's own reconnect
            }
        }
        throw TestSupportError("no ConnectResponse to \(attempts) takeovers of \(session)")
    }

    /// Ends `session` on the server at `host:port` (closeSession from a takeover connection).
    ///
    /// The owner may reconnect between the takeover and the close (which closes the takeover
    /// connection instead); the takeover is then repeated, a bounded number of times.
    public static func expire(_ session: SessionInfo, host: String = "127.0.0.1", port: Int, attempts: Int = 10) throws {
        for _ in 0..<attempts {
            let connection = try RawConnection(host: host, port: port)
            // Handshake and closeSession in one write: the server reads both before the owner can
            // finish a reconnect.
            let close = RawConnection.int32(1) + RawConnection.int32(-11)
            try connection.write(RawConnection.int32(Int32(connectRequest(session).count)) + connectRequest(session)
                + RawConnection.int32(Int32(close.count)) + close)
            guard case .frame(let response) = try connection.readFrame(), response.count >= 16 else { continue }
            let timeout = Int32(bigEndian: Array(response[4..<8]).withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
            if timeout <= 0 { return }  // already expired
            while case .frame(let reply) = try connection.readFrame() {
                if RawConnection.replyXid(reply) == 1 {
                    if RawConnection.replyError(reply) == 0 { return }
                    break
                }
            }
        }
        throw TestSupportError("could not expire \(session) in \(attempts) takeovers")
    }

    /// Resumes `session` from a second connection to the server at `host:port` and keeps that connection:
    /// on an ensemble member this is a REVALIDATE, after which the leader counts that member as the session's
    /// (while the session's own client may still be on another). Returns once the server answered.
    @discardableResult
    public static func resume(_ session: SessionInfo, host: String = "127.0.0.1", port: Int, within timeout: Duration = .seconds(10)) throws -> RawConnection {
        let connection = try RawConnection(host: host, port: port)
        try connection.writeFrame(connectRequest(session))
        guard case let .frame(response) = try connection.readFrame(within: timeout), response.count >= 16 else {
            throw TestSupportError("no ConnectResponse to the takeover of \(session) at \(host):\(port)")
        }
        return connection
    }

    /// A ConnectRequest resuming `session` (lastZxidSeen 0, so no server refuses it as ahead).
    public static func connectRequest(_ session: SessionInfo) -> [UInt8] {
        RawConnection.int32(0) + RawConnection.int64(0) + RawConnection.int32(session.timeoutMilliseconds)
            + RawConnection.int64(session.id) + RawConnection.int32(Int32(session.password.count)) + session.password + [0]
    }
}
