import Synchronization
import ZooKeeperPOSIX
import ZooKeeperProtocol

/// The outcome of one election: this peer's new state and the vote it settled on.
struct ElectionOutcome: Sendable, Hashable {
    var state: QuorumPeerState
    var vote: ElectionVote
}

/// Runs fast leader election on the election port, wire-compatible with Apache ZooKeeper 3.8's
/// `QuorumCnxManager` + `FastLeaderElection`: the decisions are ``FastLeaderElection``'s; this driver
/// owns one thread that accepts and dials peers, applies the "larger sid keeps the connection" rule,
/// frames notifications, keeps Apache's one-message send queue per peer (re-sending the last message
/// when a connection starts), and feeds the state machine with messages and clock ticks.
///
/// The elector keeps answering LOOKING peers between elections, which is how late joiners find an
/// established leader.
final class LeaderElector: Sendable {
    struct Settings: Sendable {
        var myID: Int64
        var configuration: QuorumConfiguration
        /// `zookeeper.cnxTimeout`.
        var connectTimeout: Duration = .seconds(5)
        /// How long an inbound connection may take to send its initial message (Apache: tickTime × syncLimit).
        var handshakeTimeout: Duration = .seconds(10)
        var finalizeWait: Duration = .milliseconds(200)
        var minNotificationInterval: Duration = .milliseconds(200)
        var maxNotificationInterval: Duration = .seconds(60)
        var log: ServerLog = .silent
    }

    private enum Command {
        case look(zxid: Int64, epoch: Int64, CheckedContinuation<ElectionOutcome, any Error>)
        case updateVote(peerEpoch: Int64)
        case cancelLook
    }

    private struct Mailbox {
        var commands: [Command] = []
        var stopped = false
    }

    let settings: Settings
    private let listener: Socket
    private let wakeup: WakeupPipe
    private let mailbox = Mutex(Mailbox())
    private let connected = Mutex<Set<Int64>>([])
    private let thread = ServiceThread()
    /// The port the elector listens on.
    let port: Int

    /// Takes over `listener`, a socket already listening on this peer's election address.
    init(settings: Settings, listener: Socket) throws(SocketError) {
        self.settings = settings
        self.listener = listener
        self.wakeup = try WakeupPipe()
        self.port = listener.localAddress?.port ?? 0
    }

    /// Binds this peer's election address from the configuration (the wildcard address with
    /// `quorumListenOnAllIPs`).
    static func bind(_ server: QuorumServer, onAllAddresses: Bool) throws(SocketError) -> Socket {
        try Socket.listen(host: onAllAddresses ? "0.0.0.0" : server.host, port: server.electionPort)
    }

    func start() {
        thread.start(name: "zookeeper-election-\(settings.myID)") { [self] in run() }
    }

    /// Runs one election round and returns its outcome. Cancelling the caller abandons the wait (the
    /// round itself goes on; a later call starts a new one).
    func lookForLeader(lastLoggedZxid: Int64, currentEpoch: Int64) async throws -> ElectionOutcome {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let accepted = mailbox.withLock { mailbox -> Bool in
                    guard !mailbox.stopped else { return false }
                    mailbox.commands.append(.look(zxid: lastLoggedZxid, epoch: currentEpoch, continuation))
                    return true
                }
                if accepted { wakeup.wake() } else { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            mailbox.withLock { $0.commands.append(.cancelLook) }
            wakeup.wake()
        }
    }

    /// After synchronisation: the vote late joiners are answered with carries the new epoch.
    func updateElectionVote(peerEpoch: Int64) {
        mailbox.withLock { $0.commands.append(.updateVote(peerEpoch: peerEpoch)) }
        wakeup.wake()
    }

    /// Peers with an established election connection (monitoring and tests).
    var connectedPeers: Set<Int64> { connected.withLock { $0 } }

    /// Stops the thread and closes every connection; a pending ``lookForLeader`` throws `CancellationError`.
    func stop() async {
        mailbox.withLock { $0.stopped = true }
        wakeup.wake()
        await thread.waitUntilFinished()
    }

    // MARK: The election thread

    private func run() {
        var loop = ElectorLoop(settings: settings, listener: listener)
        var waiter: CheckedContinuation<ElectionOutcome, any Error>?
        while true {
            let (commands, stopped) = mailbox.withLock { mailbox in
                defer { mailbox.commands = [] }
                return (mailbox.commands, mailbox.stopped)
            }
            if stopped {
                loop.closeAll()
                listener.close()
                waiter?.resume(throwing: CancellationError())
                for case let .look(_, _, continuation) in commands { continuation.resume(throwing: CancellationError()) }
                return
            }
            for command in commands {
                switch command {
                case let .look(zxid, epoch, continuation):
                    waiter?.resume(throwing: CancellationError())
                    waiter = continuation
                    loop.startLooking(zxid: zxid, epoch: epoch)
                case let .updateVote(epoch):
                    loop.updateElectionVote(peerEpoch: epoch)
                case .cancelLook:
                    waiter?.resume(throwing: CancellationError())
                    waiter = nil
                }
            }
            if let outcome = loop.takeOutcome() {
                waiter?.resume(returning: outcome)
                waiter = nil
            }
            loop.pollOnce(wakeup: wakeup)
            if let outcome = loop.takeOutcome() {
                waiter?.resume(returning: outcome)
                waiter = nil
            }
            let peers = loop.establishedPeers
            connected.withLock { $0 = peers }
        }
    }
}
