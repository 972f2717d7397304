import Foundation
import ZooKeeperProtocol

/// Start-up: the newest valid snapshot plus the log after it (a torn tail is truncated), or a fresh
/// database; and the secret that session passwords are derived from.
enum ServerRecovery {
    struct Recovered {
        var database: ZooKeeperDatabase
        var persistence: PersistenceDriver?
        var secret: [UInt8]
    }

    static func recover(configuration: ServerConfiguration, log: ServerLog, metrics: ServerMetrics = ServerMetrics()) throws -> Recovered {
        guard let dataDir = configuration.dataDirectory else {
            var generator = SystemRandomNumberGenerator()
            let secret = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return Recovered(database: ZooKeeperDatabase(configuration: configuration), persistence: nil, secret: secret)
        }
        let dataLogDir = configuration.dataLogDirectory ?? dataDir
        let started = ContinuousClock.now  // ZKDatabase.loadDataBase: DB_INIT_TIME
        let state = try Recovery.recover(dataDir: dataDir, dataLogDir: dataLogDir)
        for warning in state.warnings { log.warning("recovery: \(warning)") }
        var database: ZooKeeperDatabase
        if let tree = state.snapshotTree {
            database = try ZooKeeperDatabase(snapshot: tree, extendedTypesEnabled: configuration.extendedTypesEnabled,
                                             enforceQuota: configuration.enforceQuota)
        } else {
            database = ZooKeeperDatabase(configuration: configuration)
        }
        database.tree.setDigestEnabled(configuration.digestEnabled)
        if let digest = state.snapshotDigest { database.tree.compareSnapshotDigest(digest) }
        database.reserveNodeCapacity(additionalNodes: state.entries.reduce(0) { $0 + (Self.mayCreate($1.entry) ? 1 : 0) })
        var replayed = 0
        for entry in state.entries where entry.zxid > database.lastProcessedZxid {
            database.replay(try LoggedTxn(decoding: entry.entry))
            replayed += 1
        }
        let loadTime = started.duration(to: .now).milliseconds
        metrics.record { $0.dbInitTime.add(loadTime) }
        log.info("recovered to zxid 0x\(String(database.lastProcessedZxid, radix: 16)) (snapshot \(state.snapshotZxid.map { "0x" + String($0, radix: 16) } ?? "none"), \(replayed) txns replayed)")
        let txnLog = try TxnLog(directory: dataLogDir, forceSync: configuration.forceSync,
                                lastZxid: database.lastProcessedZxid,
                                preallocationSize: configuration.preAllocSizeKB * 1024)
        let persistence = PersistenceDriver(configuration: configuration, log: txnLog,
                                            snapshots: SnapshotStore(directory: dataDir), serverLog: log, metrics: metrics)
        return Recovered(database: database, persistence: persistence, secret: try loadSecret(dataDir))
    }

    /// Whether a logged entry may add a node, from its TxnHeader's type (clientId 8, cxid 4,
    /// zxid 8, time 8, then type 4 bytes, big-endian) without decoding it: creates, and multis once.
    private static func mayCreate(_ entry: [UInt8]) -> Bool {
        guard entry.count >= 32 else { return false }
        let type = Int32(bitPattern: UInt32(entry[28]) << 24 | UInt32(entry[29]) << 16 | UInt32(entry[30]) << 8 | UInt32(entry[31]))
        switch OpCode(rawValue: type) {
        case .create, .create2, .createContainer, .createTTL, .multi: return true
        default: return false
        }
    }

    /// A random secret kept beside the snapshots, so passwords of recovered sessions still match.
    private static func loadSecret(_ dataDir: String) throws -> [UInt8] {
        let path = PersistenceLayout.versionDirectory(of: dataDir) + "/shepherd.secret"
        if let existing = FileManager.default.contents(atPath: path), existing.count == 16 { return Array(existing) }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try FileIO.makeDirectories(PersistenceLayout.versionDirectory(of: dataDir))
        try FileIO.writeAtomically([secret], to: path, temporary: path + ".tmp")
        return secret
    }
}
