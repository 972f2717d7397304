import Foundation
import Testing
@testable import ZooKeeperServer

/// Prints fsync figures for this machine; asserts nothing about timing.
@Suite struct PersistenceBenchmarkTests {
    @Test func groupCommitThroughput() throws {
        let entrySize = 100
        for groupSize in [1, 10, 100, 1000] {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let log = try TxnLog(directory: dir.dataLogDir, forceSync: true)
            let entries = groupSize == 1 ? 1000 : max(1000, groupSize * 20)
            let prepared = (1...Int64(entries)).map { makeEntry(zxid: $0, payloadSize: entrySize - 32) }
            var syncs: [UInt64] = []
            var zxid: Int64 = 0
            let start = TxnLog.now()
            while zxid < entries {
                for _ in 0..<groupSize {
                    zxid += 1
                    try log.append(zxid: zxid, entry: prepared[Int(zxid) - 1])
                }
                try log.commit()
                syncs.append(log.lastSyncNanoseconds)
            }
            let elapsed = Double(TxnLog.now() - start) / 1e9
            try log.close()
            syncs.sort()
            let p50 = Double(syncs[syncs.count / 2]) / 1e6
            let p99 = Double(syncs[min(syncs.count - 1, syncs.count * 99 / 100)]) / 1e6
            print("""
                [persistence-bench] group=\(groupSize) entries=\(entries)x\(entrySize)B commits=\(syncs.count) \
                commits/s=\(Int(Double(syncs.count) / elapsed)) entries/s=\(Int(Double(entries) / elapsed)) \
                fsync p50=\(String(format: "%.3f", p50))ms p99=\(String(format: "%.3f", p99))ms
                """)
            #expect(try dir.recover().lastZxid == zxid)
        }
    }
}
