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

    static func recover(configuration: ServerConfiguration, log: ServerLog) throws -> Recovered {
        guard let dataDir = configuration.dataDirectory else {
            var generator = SystemRandomNumberGenerator()
            let secret = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return Recovered(database: ZooKeeperDatabase(configuration: configuration), persistence: nil, secret: secret)
        }
        let dataLogDir = configuration.dataLogDirectory ?? dataDir
        let state = try Recovery.recover(dataDir: dataDir, dataLogDir: dataLogDir)
        for warning in state.warnings { log.warning("recovery: \(warning)") }
        var database: ZooKeeperDatabase
        if let tree = state.snapshotTree {
            database = try ZooKeeperDatabase(snapshot: tree, extendedTypesEnabled: configuration.extendedTypesEnabled,
                                             enforceQuota: configuration.enforceQuota)
        } else {
            database = ZooKeeperDatabase(configuration: configuration)
        }
        var replayed = 0
        for entry in state.entries where entry.zxid > database.lastProcessedZxid {
            database.replay(try LoggedTxn(decoding: entry.entry))
            replayed += 1
        }
        log.info("recovered to zxid 0x\(String(database.lastProcessedZxid, radix: 16)) (snapshot \(state.snapshotZxid.map { "0x" + String($0, radix: 16) } ?? "none"), \(replayed) txns replayed)")
        let txnLog = try TxnLog(directory: dataLogDir, forceSync: configuration.forceSync,
                                lastZxid: database.lastProcessedZxid,
                                preallocationSize: configuration.preAllocSizeKB * 1024)
        let persistence = PersistenceDriver(configuration: configuration, log: txnLog,
                                            snapshots: SnapshotStore(directory: dataDir), serverLog: log)
        return Recovered(database: database, persistence: persistence, secret: try loadSecret(dataDir))
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
