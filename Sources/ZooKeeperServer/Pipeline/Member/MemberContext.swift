import ZooKeeperProtocol

/// How an ensemble member's pipeline reaches its current role (``QuorumPeer`` in a server; a fake in tests).
protocol QuorumRoleLink: Sendable {
    /// Sends a write, `sync` or `createSession` to be committed; false when no role serves (drop the client).
    func forward(_ request: ClientRequest) -> Bool
    /// Asks the leader whether a session reconnecting here is alive; false when no role serves.
    func revalidate(session: Int64, timeout: Int32) -> Bool
    /// What `mntr` and `srvr` report about the ensemble.
    var ensembleStatus: EnsembleStatus { get }
}

/// The ensemble facts the four-letter words print.
struct EnsembleStatus: Sendable {
    var quorumSize = 0
    /// The leader's id while following, when the role reports it (the admin server's `leader`).
    var leaderID: Int64?
    /// Leader only: learners connected, followers synchronised (voting), pending learner syncs.
    var learners: Int?
    var syncedFollowers = 0
    var pendingSyncs = 0
    /// Leader only: the sizes of its proposals.
    var proposalSizes: BufferStats?
    /// Leader only: milliseconds since this leadership began (`zk_leader_uptime`).
    var leaderUptime: Int64?
}

/// A client request held by the member pipeline: the request and the connection that sent it.
struct MemberRequest: Sendable {
    var connection: UInt64
    var request: ClientRequest
}

/// A handshake waiting for the quorum: a new session's createSession commit, or the leader's REVALIDATE.
struct PendingHandshake: Sendable {
    var connection: UInt64
    var timeout: Int32
    var sentReadOnly: Bool
    /// For a new session, when its handshake was read: its creation is a request with a latency (Apache's
    /// `updatelatency`). Nil for a resumed session, which has none.
    var creationStarted: ContinuousClock.Instant? = nil
}

/// What the pipeline of an ensemble member keeps beyond a standalone server's: the link to its role, the
/// per-session order of outstanding requests, and handshakes waiting for the quorum.
struct MemberContext: Sendable {
    let link: any QuorumRoleLink
    let activity: SessionActivity
    /// Set while a role serves: whether this member leads or follows, and the epoch.
    var serving: (state: QuorumPeerState, epoch: Int64)?
    /// The member's disk while serving: committed transactions count toward its next snapshot here, where
    /// the committed database lives (nil in memory).
    var storage: QuorumStorage?
    /// Set while the read-only service runs (looking, no quorum, `readonlymode.enabled`).
    var readOnly = false
    var queue = CommitQueue<MemberRequest>()
    /// New sessions by id, waiting for their createSession to commit.
    var connecting: [Int64: PendingHandshake] = [:]
    /// Sessions moving here, waiting for the leader's answer.
    var revalidating: [Int64: PendingHandshake] = [:]
    /// Leader only: sessions this member served that another member serves now. The next read, `sync` or ping
    /// of one here closes its connection, as Apache's leader's `checkSession` (writes go to the leader, which
    /// refuses them). Until the session revalidates here, or closes.
    var movedAway: Set<Int64> = []
    /// Requests a client pipelined behind its handshake, by connection, until the handshake is answered
    /// (Apache stops reading such a connection until then: `disableRecv`).
    var held: [UInt64: [NetworkEvent]] = [:]

    init(link: any QuorumRoleLink, activity: SessionActivity) {
        self.link = link
        self.activity = activity
    }

    /// `srvr`'s `Mode:` and `mntr`'s `zk_server_state`.
    var mode: String {
        if readOnly { return "read-only" }  // ReadOnlyZooKeeperServer.getState()
        switch serving?.state {
        case .leading: return "leader"
        case .following: return "follower"
        case .observing: return "observer"
        default: return "looking"
        }
    }

    /// `mntr`'s `zk_peer_state` (`QuorumPeer.getDetailedPeerState`).
    var peerState: String {
        switch serving?.state {
        case .leading: return "leading - broadcast"
        case .following: return "following - broadcast"
        case .observing: return "observing - broadcast"
        default: return "looking"
        }
    }
}
