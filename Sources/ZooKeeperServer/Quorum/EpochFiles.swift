/// `acceptedEpoch` and `currentEpoch`: the two promises a quorum member makes durable (Apache's files of
/// the same names in the snapshot directory, ASCII decimal without a newline, written through a `.tmp`
/// file + fsync + rename so Apache can read our data directory and we can read its).
///
/// - acceptedEpoch: the newest epoch this peer promised to follow (before it sends ACKEPOCH);
/// - currentEpoch: the epoch whose history this peer holds (before it ACKs NEWLEADER).
struct EpochFiles: Sendable {
    static let acceptedName = "acceptedEpoch"
    static let currentName = "currentEpoch"

    /// The snapshot directory (`dataDir/version-2`); nil keeps the epochs in memory only (tests).
    let directory: String?
    private(set) var acceptedEpoch: Int64
    private(set) var currentEpoch: Int64

    /// Reads both files. A missing file takes the epoch of the last logged zxid, as Apache does; an
    /// acceptedEpoch below currentEpoch, or a log ahead of currentEpoch without a `currentEpoch.tmp`
    /// to explain it, refuses to start (`QuorumPeer.loadDataBase`).
    init(directory: String?, lastLoggedZxid: Int64) throws(PersistenceError) {
        self.directory = directory
        let logEpoch = Zxid.epoch(max(lastLoggedZxid, 0))
        guard let directory else {
            acceptedEpoch = logEpoch
            currentEpoch = logEpoch
            return
        }
        var current = try Self.read(directory + "/" + Self.currentName) ?? logEpoch
        if logEpoch > current {
            guard let pending = try Self.read(directory + "/" + Self.currentName + ".tmp"), pending >= logEpoch else {
                throw PersistenceError(.corruptFile, path: directory + "/" + Self.currentName,
                    "the current epoch \(current) is older than the last zxid \(Zxid.hex(lastLoggedZxid))")
            }
            current = pending
            try Self.write(current, to: directory + "/" + Self.currentName)
        }
        let accepted = try Self.read(directory + "/" + Self.acceptedName) ?? current
        guard accepted >= current else {
            throw PersistenceError(.corruptFile, path: directory + "/" + Self.acceptedName,
                "the accepted epoch \(accepted) is less than the current epoch \(current)")
        }
        acceptedEpoch = accepted
        currentEpoch = current
        if !FileIO.exists(directory + "/" + Self.currentName) { try Self.write(current, to: directory + "/" + Self.currentName) }
        if !FileIO.exists(directory + "/" + Self.acceptedName) { try Self.write(accepted, to: directory + "/" + Self.acceptedName) }
    }

    mutating func setAcceptedEpoch(_ epoch: Int64) throws(PersistenceError) {
        if let directory { try Self.write(epoch, to: directory + "/" + Self.acceptedName) }
        acceptedEpoch = epoch
    }

    mutating func setCurrentEpoch(_ epoch: Int64) throws(PersistenceError) {
        if let directory { try Self.write(epoch, to: directory + "/" + Self.currentName) }
        currentEpoch = epoch
    }

    private static func read(_ path: String) throws(PersistenceError) -> Int64? {
        guard FileIO.exists(path) else { return nil }
        let text = String(decoding: try FileIO.readAll(path), as: UTF8.self)
        guard let value = Int64(text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "") else {
            throw PersistenceError(.corruptFile, path: path, "not a decimal epoch: \"\(text.prefix(40))\"")
        }
        return value
    }

    private static func write(_ epoch: Int64, to path: String) throws(PersistenceError) {
        try FileIO.writeAtomically([Array(String(epoch).utf8)], to: path, temporary: path + ".tmp")
    }
}
