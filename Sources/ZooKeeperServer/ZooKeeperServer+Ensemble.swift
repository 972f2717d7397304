import Foundation
import ZooKeeperPOSIX
import ZooKeeperProtocol

/// Starting a server whose configuration lists an ensemble: a ``QuorumPeer`` (election, then leading or
/// following) on the quorum and election ports, and the usual network loop and pipeline on the client
/// port, the pipeline in member mode (``PipelineState+Member``).
extension ZooKeeperServer {
    /// This member's id: ``ServerConfiguration/serverID`` or, as Apache, the `myid` file in the data directory.
    static func memberID(_ configuration: ServerConfiguration) throws -> Int64 {
        if let id = configuration.serverID { return id }
        guard let dataDirectory = configuration.dataDirectory else {
            throw ServerStartError("an ensemble member needs serverID or a dataDir holding a myid file")
        }
        let path = dataDirectory + "/myid"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ServerStartError("\(path) is missing: write this member's server id (the N of its server.N line) there")
        }
        guard let id = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ServerStartError("\(path) must hold this member's server id, not \"\(text.prefix(40))\"")
        }
        return id
    }

    func startMember() throws -> Running {
        guard let quorum = configuration.quorum else { throw ServerStartError("no server.N lines") }
        var configuration = self.configuration
        let id = try Self.memberID(configuration)
        configuration.serverID = id
        guard let me = quorum.servers[id] else {
            throw ServerStartError("myid is \(id) but no server.\(id) line lists this member")
        }
        if let port = me.clientPort { configuration.clientPort = port }
        if let host = me.clientHost { configuration.clientPortAddress = host }

        let bindHost = configuration.quorumListenOnAllIPs ? "0.0.0.0" : me.host
        let election = try Socket.listen(host: bindHost, port: me.electionPort)
        let quorumListener: Socket
        let client: Socket
        do {
            quorumListener = try Socket.listen(host: bindHost, port: me.quorumPort)
            do {
                client = try Socket.listen(host: configuration.clientPortAddress, port: configuration.clientPort)
            } catch {
                quorumListener.close()
                throw error
            }
        } catch {
            election.close()
            throw error
        }

        let metrics = ServerMetrics()
        let storage: QuorumStorage?
        var database: ZooKeeperDatabase
        let epochs: EpochFiles
        if let dataDirectory = configuration.dataDirectory {
            (storage, database, epochs) = try QuorumStorage.open(
                dataDirectory: dataDirectory, dataLogDirectory: configuration.dataLogDirectory, forceSync: configuration.forceSync,
                preallocationSize: configuration.preAllocSizeKB * 1024, snapCount: configuration.snapCount, log: log, metrics: metrics)
        } else {
            (storage, database, epochs) = (nil, ZooKeeperDatabase(configuration: configuration), try EpochFiles(directory: nil, lastLoggedZxid: 0))
        }
        database.configure(extendedTypesEnabled: configuration.extendedTypesEnabled, enforceQuota: configuration.enforceQuota,
                           legacyMultiCreate: true, digestEnabled: configuration.digestEnabled)

        let clientSide = PipelineClientSide()
        let activity = SessionActivity()
        let peer = try QuorumPeer(
            settings: .init(myID: id, configuration: quorum, tickTime: .milliseconds(configuration.tickTime),
                            initLimit: configuration.initLimit, syncLimit: configuration.syncLimit, log: log,
                            clientSide: clientSide, activity: activity, readOnlyModeEnabled: configuration.readOnlyModeEnabled,
                            snapshotSizeFactor: configuration.snapshotSizeFactor, committedLogCount: configuration.committedLogCount, metrics: metrics),
            electionListener: election, quorumListener: quorumListener, database: database, epochs: epochs, storage: storage)
        let state = PipelineState(
            configuration: configuration, database: database,
            sessions: SessionTracker(tickTime: configuration.tickTime, serverID: id, now: wallClockMilliseconds()),
            passwords: .apache, persistence: nil, log: log, metrics: metrics)
        state.member = MemberContext(link: peer, activity: activity)
        let pipeline = try RequestPipeline(state: state)
        clientSide.bind(pipeline)
        let network = try NetworkLoop(
            listener: client,
            limits: .init(maxFrameLength: configuration.maxBuffer, maxClientConnections: configuration.maxClientConnections)
        ) { events in pipeline.submit(events) }
        state.network = network
        pipeline.start()
        network.start()
        peer.start()
        log.info("member \(id) of \(quorum.votingMembers.count): clients on \(configuration.clientPortAddress):\(network.port), quorum on \(me.host):\(me.quorumPort), election on \(me.host):\(me.electionPort)")
        return Running(network: network, pipeline: pipeline, peer: peer)
    }
}

/// A server that cannot start, with the reason in words.
public struct ServerStartError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
