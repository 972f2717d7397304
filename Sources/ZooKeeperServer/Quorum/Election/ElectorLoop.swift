import ZooKeeperPOSIX
import ZooKeeperProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The election thread's state and I/O: the connections to peers (`QuorumCnxManager`'s rules) and the
/// election state machine they feed. Lives on ``LeaderElector``'s thread only.
struct ElectorLoop {
    typealias Machine = FastLeaderElection<ContinuousClock.Instant>

    private let settings: LeaderElector.Settings
    private let listener: Socket
    private var machine: Machine?
    private var channels: [Int: ElectionChannel] = [:]
    private var nextChannelID = 1
    /// The established channel per peer.
    private var established: [Int64: Int] = [:]
    /// Our outbound connection attempt per peer.
    private var dialing: [Int64: Int] = [:]
    /// Apache's per-peer send queue of capacity one: the newest frame not yet handed to a socket.
    private var queued: [Int64: [UInt8]] = [:]
    /// The last frame handed to each peer's socket, re-sent when a new connection to it starts.
    private var lastSent: [Int64: [UInt8]] = [:]
    private var outcome: ElectionOutcome?
    private var scratch = [UInt8](repeating: 0, count: 16 * 1024)
    private let initialMessage: [UInt8]

    init(settings: LeaderElector.Settings, listener: Socket) {
        self.settings = settings
        self.listener = listener
        let me = settings.configuration.servers[settings.myID]
        initialMessage = ElectionInitialMessage(sid: settings.myID, addresses: me.map { [$0.electionAddress] } ?? []).encoded()
    }

    var establishedPeers: Set<Int64> { Set(established.keys) }

    mutating func takeOutcome() -> ElectionOutcome? {
        defer { outcome = nil }
        return outcome
    }

    // MARK: Commands

    mutating func startLooking(zxid: Int64, epoch: Int64) {
        let now = ContinuousClock.now
        if machine == nil {
            machine = Machine(
                settings: .init(
                    myID: settings.myID, configuration: settings.configuration,
                    minNotificationInterval: settings.minNotificationInterval,
                    maxNotificationInterval: settings.maxNotificationInterval, finalizeWait: settings.finalizeWait),
                lastLoggedZxid: zxid, currentEpoch: epoch)
        }
        settings.log.info("election \(settings.myID): looking (last zxid 0x\(String(zxid, radix: 16)), epoch \(epoch))")
        perform(machine!.startLooking(lastLoggedZxid: zxid, currentEpoch: epoch, now: now))
    }

    mutating func updateElectionVote(peerEpoch: Int64) {
        machine?.updateElectionVote(peerEpoch: peerEpoch)
    }

    mutating func closeAll() {
        for channel in channels.values { channel.socket.close() }
        channels = [:]
        established = [:]
        dialing = [:]
    }

    // MARK: Polling

    mutating func pollOnce(wakeup: WakeupPipe) {
        var ids: [Int] = []
        var fds = [
            pollfd(fd: wakeup.readFD, events: Poller.readable, revents: 0),
            pollfd(fd: listener.fd, events: Poller.readable, revents: 0),
        ]
        for (id, channel) in channels {
            ids.append(id)
            fds.append(pollfd(fd: channel.socket.fd, events: channel.pollEvents, revents: 0))
        }
        let now = ContinuousClock.now
        let deadlines = [machine?.nextDeadline] + channels.values.map(\.deadline)
        let timeout = deadlines.compactMap { $0 }.min().map { max(.zero, $0 - now) }
        do {
            _ = try Poller.poll(&fds, timeout: timeout ?? .seconds(1))
        } catch {
            settings.log.error("election \(settings.myID): poll failed: \(error)")
            return
        }
        if fds[0].revents != 0 { wakeup.drain() }
        if fds[1].revents != 0 { acceptAll() }
        for (index, id) in ids.enumerated() where fds[index + 2].revents != 0 {
            service(id, revents: fds[index + 2].revents)
        }
        expireChannels()
        if var machine {
            let actions = machine.tick(now: ContinuousClock.now)
            self.machine = machine
            perform(actions)
        }
    }

    private mutating func acceptAll() {
        while true {
            let socket: Socket?
            do {
                socket = try listener.accept()
            } catch {
                settings.log.warning("election \(settings.myID): accept failed: \(error)")
                return
            }
            guard let socket else { return }
            socket.setNoDelay()
            let deadline = ContinuousClock.now + settings.handshakeTimeout
            add(ElectionChannel(id: nextChannelID, socket: socket, sid: nil, phase: .awaitingInitialMessage(deadline: deadline)))
        }
    }

    private mutating func add(_ channel: ElectionChannel) {
        channels[channel.id] = channel
        nextChannelID += 1
    }

    private mutating func close(_ id: Int, because reason: String) {
        guard let channel = channels.removeValue(forKey: id) else { return }
        channel.socket.close()
        if let sid = channel.sid {
            if established[sid] == id {
                established[sid] = nil
                settings.log.info("election \(settings.myID): connection to \(sid) closed: \(reason)")
            }
            if dialing[sid] == id { dialing[sid] = nil }
        }
    }

    private mutating func expireChannels() {
        let now = ContinuousClock.now
        for (id, channel) in channels {
            if let deadline = channel.deadline, now >= deadline { close(id, because: "timed out") }
        }
    }

    private mutating func service(_ id: Int, revents: Int16) {
        guard let channel = channels[id] else { return }
        do throws(SocketError) {
            switch channel.phase {
            case .connecting:
                try channel.socket.finishConnect()
                connected(channel)
            case .awaitingInitialMessage:
                // A smaller sid says who it is and closes at once (it expects us to dial back): its message
                // and its end of stream often arrive together, and the message must still be read.
                let open = try channel.fill(scratch: &scratch)
                try handshake(channel)
                if !open { close(id, because: "end of stream") }
            case .closingAfterWrite:
                try channel.flush()
                if channel.isDrained { close(id, because: "the larger sid dials back") }
            case .established:
                if revents & Poller.writable != 0 { try channel.flush() }
                if revents & (Poller.readable | Poller.failed) != 0 {
                    let open = try channel.fill(scratch: &scratch)
                    receiveFrames(channel)
                    if !open { return close(id, because: "end of stream") }
                }
                if channel.isDrained, let sid = channel.sid { handOver(to: sid) }
            }
        } catch {
            close(id, because: "\(error)")
        }
    }

    /// Our outbound connect finished: introduce ourselves. Only the larger sid's connection survives.
    private mutating func connected(_ channel: ElectionChannel) {
        guard let sid = channel.sid else { return }
        dialing[sid] = nil
        channel.enqueue(initialMessage)
        if sid > settings.myID {
            channel.phase = .closingAfterWrite
            service(channel.id, revents: Poller.writable)
        } else {
            adopt(channel, for: sid)
        }
    }

    /// An inbound connection said who it is.
    private mutating func handshake(_ channel: ElectionChannel) throws(SocketError) {
        let message: ElectionInitialMessage?
        do {
            message = try channel.takeInitialMessage()
        } catch {
            return close(channel.id, because: "bad initial message: \(error)")
        }
        guard let message else { return }
        let sid = message.sid
        guard sid != settings.myID else {
            settings.log.warning("election \(settings.myID): a connection claims our own sid (ZOOKEEPER-2164)")
            return close(channel.id, because: "own sid")
        }
        guard settings.configuration.servers[sid] != nil else {
            settings.log.warning("election \(settings.myID): connection from unknown sid \(sid)")
            return close(channel.id, because: "unknown sid")
        }
        channel.sid = sid
        if sid < settings.myID {
            // The smaller sid must not keep this connection: we dial it back.
            close(channel.id, because: "smaller sid")
            connectOne(sid)
            return
        }
        adopt(channel, for: sid)
        receiveFrames(channel)
    }

    /// Makes `channel` the connection for `sid`, replacing an older one, and starts sending.
    private mutating func adopt(_ channel: ElectionChannel, for sid: Int64) {
        if let old = established[sid], old != channel.id { close(old, because: "replaced by a new connection") }
        channel.phase = .established
        established[sid] = channel.id
        settings.log.info("election \(settings.myID): connected to \(sid)")
        // Apache's SendWorker re-sends the last message when a connection starts with nothing queued.
        if queued[sid] == nil, let last = lastSent[sid] { queued[sid] = last }
        handOver(to: sid)
        do { try channel.flush() } catch { close(channel.id, because: "\(error)") }
    }

    /// Moves the queued frame for `sid` onto its socket once the previous one is out.
    private mutating func handOver(to sid: Int64) {
        guard let id = established[sid], let channel = channels[id], channel.isDrained, let frame = queued.removeValue(forKey: sid) else { return }
        channel.enqueue(frame)
        lastSent[sid] = frame
    }

    private mutating func receiveFrames(_ channel: ElectionChannel) {
        guard let sid = channel.sid else { return }
        let frames: [[UInt8]]
        do {
            frames = try channel.takeFrames()
        } catch {
            return close(channel.id, because: "invalid frame length \(error.length)")
        }
        for payload in frames {
            do {
                let notification = try ElectionNotification.decode(payload)
                deliver(notification, from: sid)
            } catch {
                settings.log.warning("election \(settings.myID): dropped a malformed notification from \(sid): \(error)")
            }
        }
    }

    private mutating func deliver(_ notification: ElectionNotification, from sid: Int64) {
        guard var machine else { return }
        settings.log.debug("election \(settings.myID): from \(sid): \(notification.state) for \(notification.leader), zxid 0x\(String(notification.zxid, radix: 16)), round \(notification.electionEpoch), epoch \(notification.peerEpoch)")
        let actions = machine.receive(from: sid, notification, now: ContinuousClock.now)
        self.machine = machine
        perform(actions)
    }

    private mutating func connectOne(_ sid: Int64) {
        guard sid != settings.myID, established[sid] == nil, dialing[sid] == nil,
              let server = settings.configuration.servers[sid] else { return }
        do {
            guard let address = try SocketAddress.resolve(host: server.host, port: server.electionPort).first else { return }
            let (socket, done) = try Socket.startConnect(to: address)
            let channel = ElectionChannel(
                id: nextChannelID, socket: socket, sid: sid,
                phase: .connecting(deadline: ContinuousClock.now + settings.connectTimeout))
            add(channel)
            dialing[sid] = channel.id
            if done { connected(channel) }
        } catch {
            settings.log.debug("election \(settings.myID): cannot connect to \(sid): \(error)")
        }
    }

    private mutating func perform(_ actions: [Machine.Action]) {
        var pending = actions[...]
        while let action = pending.popFirst() {
            switch action {
            case let .send(to, notification):
                if to == settings.myID {
                    // Our own vote short-cuts to our receive queue, as in QuorumCnxManager.toSend.
                    guard var machine else { continue }
                    pending += machine.receive(from: to, notification, now: ContinuousClock.now)
                    self.machine = machine
                    continue
                }
                queued[to] = ElectionChannel.frame(notification.encoded())
                if established[to] != nil {
                    handOver(to: to)
                    if let id = established[to], let channel = channels[id] {
                        do { try channel.flush() } catch { close(id, because: "\(error)") }
                    }
                } else {
                    connectOne(to)
                }
            case .connectAll:
                for sid in settings.configuration.votingMembers.sorted() { connectOne(sid) }
            case let .decided(state, vote):
                settings.log.info("election \(settings.myID): \(state) under \(vote)")
                outcome = ElectionOutcome(state: state, vote: vote)
            }
        }
    }
}
