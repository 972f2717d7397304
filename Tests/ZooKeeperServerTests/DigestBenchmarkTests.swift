import Foundation
import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// Prints what keeping the tree digest costs per applied txn on this machine (creates of 100-byte nodes under
/// a few parents, then sets of them), digests on against off; asserts nothing about timing. Meaningful in a
/// release build (a debug build inflates both sides several times over).
@Suite struct DigestBenchmarkTests {
    static func txns(count: Int) -> [LoggedTxn] {
        let data = [UInt8](repeating: 7, count: 100)
        var txns: [LoggedTxn] = []
        var zxid: Int64 = 0
        func header(_ type: OpCode) -> TxnHeader {
            zxid += 1
            return TxnHeader(clientId: 1, cxid: Int32(truncatingIfNeeded: zxid), zxid: zxid, time: 1_000 + zxid, type: type.rawValue)
        }
        for parent in 0..<4 {
            txns.append(LoggedTxn(header: header(.create), body: .create(CreateTxn(path: "/p\(parent)", data: [], acl: .openACLUnsafe, ephemeral: false, parentCVersion: -1))))
        }
        for index in 0..<count {
            txns.append(LoggedTxn(header: header(.create), body: .create(CreateTxn(
                path: "/p\(index % 4)/node-\(index)", data: data, acl: .openACLUnsafe, ephemeral: false, parentCVersion: -1))))
        }
        for index in 0..<count {
            txns.append(LoggedTxn(header: header(.setData), body: .setData(SetDataTxn(path: "/p\(index % 4)/node-\(index)", data: data, version: 1))))
        }
        return txns
    }

    static func apply(_ txns: [LoggedTxn], digests: Bool) -> (seconds: Double, digest: Int64) {
        var tree = DataTree(extendedTypesEnabled: false)
        tree.setDigestEnabled(digests)
        tree.reserveCapacity(txns.count)
        let start = ContinuousClock.now
        for txn in txns { _ = tree.processTxn(txn) }
        let elapsed = start.duration(to: .now)
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, tree.treeDigest)
    }

    @Test func digestCostPerTxn() {
        let txns = Self.txns(count: 10_000)
        var best: [Bool: Double] = [:]
        for round in 0..<3 {
            for digests in [false, true] {
                let (seconds, digest) = Self.apply(txns, digests: digests)
                best[digests] = min(best[digests] ?? .infinity, seconds)
                #expect((digest != 0) == digests, "round \(round)")
            }
        }
        let off = best[false]! / Double(txns.count) * 1e9
        let on = best[true]! / Double(txns.count) * 1e9
        print("[digest-bench] \(txns.count) txns (create + setData, 100-byte nodes): off \(Int(off)) ns/txn, on \(Int(on)) ns/txn, digest \(Int(on - off)) ns/txn (\(String(format: "%.1f", (on / off - 1) * 100))%)")
    }
}
