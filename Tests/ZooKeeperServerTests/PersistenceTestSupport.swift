import Foundation
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// A fresh directory under the system temp dir, removed by ``remove()``.
struct TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "shepherd-persist-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else { throw PersistenceError(.io(errno: errno), "mkdtemp failed") }
        path = String(cString: created)
    }

    init(existing path: String) { self.path = path }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    var logDirectory: String { path + "/log/version-2" }
    var snapDirectory: String { path + "/snap/version-2" }
    var dataDir: String { path + "/snap" }
    var dataLogDir: String { path + "/log" }

    func recover(strict: Bool = false) throws -> RecoveredState {
        try Recovery.recover(dataDir: dataDir, dataLogDir: dataLogDir, strict: strict)
    }

    /// Names in a version-2 directory, sorted.
    func names(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    /// Copies all files of `other` into this directory (same relative layout).
    func copyContents(of other: TemporaryDirectory) throws {
        for sub in ["log/version-2", "snap/version-2"] {
            try FileManager.default.createDirectory(atPath: path + "/" + sub, withIntermediateDirectories: true)
            for name in other.names(other.path + "/" + sub) {
                try FileManager.default.copyItem(atPath: other.path + "/" + sub + "/" + name, toPath: path + "/" + sub + "/" + name)
            }
        }
    }
}

/// A log entry as the pipeline makes them: TxnHeader, then a payload.
func makeEntry(zxid: Int64, payloadSize: Int = 20) -> [UInt8] {
    var bytes = TxnHeader(clientId: 0x1234, cxid: Int32(truncatingIfNeeded: zxid), zxid: zxid, time: 1_700_000_000_000, type: 1).juteBytes()
    bytes.append(contentsOf: (0..<payloadSize).map { UInt8(truncatingIfNeeded: Int64($0) &+ zxid) })
    return bytes
}

func readFile(_ path: String) throws -> [UInt8] { try FileIO.readAll(path) }

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Writes `zxids` through a TxnLog (committing after each `groupSize` entries) and closes it.
func writeLog(_ dir: TemporaryDirectory, zxids: some Sequence<Int64>, rollBefore: Set<Int64> = [], preallocation: Int = 0, lastZxid: Int64 = 0) throws {
    let log = try TxnLog(directory: dir.dataLogDir, forceSync: false, lastZxid: lastZxid, preallocationSize: preallocation)
    for zxid in zxids {
        if rollBefore.contains(zxid) { try log.rollLog() }
        try log.append(zxid: zxid, entry: makeEntry(zxid: zxid))
        try log.commit()
    }
    try log.close()
}

extension RecoveredState {
    var zxids: [Int64] { entries.map(\.zxid) }
}
