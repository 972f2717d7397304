import Foundation
import Testing
import ZooKeeperClient
@testable import ZooKeeperRecipes
import ZooKeeperTestSupport

/// Debian's python3 with python3-kazoo, if installed.
enum KazooToolchain {
    static let python = "/usr/bin/python3"
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: python)
            && FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/kazoo/client.py")
    }
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("kazoo_lock_contender.py").path

    static func contend(_ connectString: String, mode: String, path: ZNodePath) async throws -> ToolRun {
        try await runTool(python, [script, connectString, mode, path.string], timeout: .seconds(90))
    }
}

@Suite(
    "kazoo interop: kazoo's Lock and our DistributedMutex on one path",
    .timeLimit(.minutes(2)),
    .enabled(if: KazooToolchain.available, "needs Debian's python3-kazoo (apt-get install python3-kazoo; .ci/run does)")
)
struct KazooLockInteropTests {
    @Test("a default kazoo Lock holds: its __lock__ node is a contender, so our mutex waits for it")
    func kazooHolderExcludesUs() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let zk = clients[0]
                let path: ZNodePath = "/kazoo/lock"
                let kazoo = Task { try await KazooToolchain.contend(server.connectString, mode: "hold", path: path) }
                try await eventually(within: .seconds(45)) { (try? await zk.exists("/signal/held")) != nil }
                await #expect(throws: LockError.timedOut) {
                    _ = try await DistributedMutex(client: zk, path: path).acquire(timeout: .milliseconds(500))
                }
                let waiting = Task { try await DistributedMutex(client: zk, path: path).acquire(timeout: .seconds(30)) }
                try await waitForChildren(zk, path, count: 2)
                try await zk.create("/signal/release")
                let lease = try await waiting.value
                let children = try await zk.getChildren(path)
                #expect(children == [lease.path.name], "kazoo had released first: \(children)")
                try await lease.release()
                let run = try await kazoo.value
                #expect(run.exitCode == 0 && run.output.contains("released"), "\(run)")
            }
        }
    }

    @Test("kazoo's WriteLock holds: our readers and writers wait; kazoo's ReadLock holds: our readers share, writers wait")
    func kazooReadWriteLocks() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let zk = clients[0]
                for (mode, readersShare) in [("hold-write", false), ("hold-read", true)] {
                    let path = try ZNodePath("/kazoo/rw-\(mode)")
                    let kazoo = Task { try await KazooToolchain.contend(server.connectString, mode: mode, path: path) }
                    try await eventually(within: .seconds(45)) { (try? await zk.exists("/signal/held")) != nil }
                    let lock = DistributedReadWriteLock(client: zk, path: path)
                    await #expect(throws: LockError.timedOut, "\(mode): our writer must wait") {
                        _ = try await lock.writeLock.acquire(timeout: .milliseconds(500))
                    }
                    if readersShare {
                        let read = try await lock.readLock.acquire(timeout: .seconds(5))
                        try await read.release()
                    } else {
                        await #expect(throws: LockError.timedOut, "\(mode): our reader must wait") {
                            _ = try await lock.readLock.acquire(timeout: .milliseconds(500))
                        }
                    }
                    let writer = Task { try await lock.writeLock.acquire(timeout: .seconds(30)) }
                    try await waitForChildren(zk, path, count: 2)
                    try await zk.create("/signal/release")
                    let lease = try await writer.value
                    #expect(try await zk.getChildren(path) == [lease.path.name])
                    try await lease.release()
                    let run = try await kazoo.value
                    #expect(run.exitCode == 0 && run.output.contains("released"), "\(run)")
                    try await zk.delete("/signal/held")
                    try await zk.delete("/signal/release")
                }
            }
        }
    }

    @Test("we hold: kazoo's Curator-named Lock subclass waits, then gets the lock after our release")
    func kazooSubclassWaitsForUs() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let zk = clients[0]
                let path: ZNodePath = "/kazoo/subclass"
                let lease = try await DistributedMutex(client: zk, path: path).acquire(timeout: .seconds(10))
                let kazoo = Task { try await KazooToolchain.contend(server.connectString, mode: "subclass", path: path) }
                try await eventually(within: .seconds(45)) { (try? await zk.exists("/signal/tried")) != nil }
                try await zk.create("/signal/go")
                // Released only once kazoo waits behind us again: released before, the lock directory (a
                // container) would be empty, Apache would reap it, and kazoo — which ensures the parent path
                // once per Lock — would fail its create with NoNode (seen once in CI).
                try await eventually(within: .seconds(20)) { (try? await zk.getChildren(path).count) == 2 }
                try await lease.release()
                let run = try await kazoo.value
                #expect(run.exitCode == 0, "\(run)")
                #expect(run.output.contains("first:False"), "kazoo must not take a lock we hold: \(run)")
                #expect(run.output.contains("second:True"), "\(run)")
                #expect(try await leftovers(zk, path).isEmpty)
            }
        }
    }

    @Test("unit: kazoo's nodes sort by sequence among ours; unrelated children are not contenders")
    func ordering() {
        let children = ["_c_0f-lock-0000000004", "9ab__lock__0000000002", "config", "_c_aa-lock-0000000003", "ff-lock-0000000005"]
        let (ordered, unrelated) = LockContenders.contenders(children, markers: ["lock-", "__lock__"])
        #expect(ordered == ["9ab__lock__0000000002", "_c_aa-lock-0000000003", "_c_0f-lock-0000000004", "ff-lock-0000000005"])
        #expect(unrelated == ["config"])
        let rw = LockContenders.contenders(["x__rlock__0000000001", "_c_1-__WRIT__0000000002", "y__lock__0000000000"],
                                           markers: ["__READ__", "__WRIT__", "__rlock__", "__lock__"]).ordered
        #expect(rw == ["y__lock__0000000000", "x__rlock__0000000001", "_c_1-__WRIT__0000000002"])
        let reader = LockContenders.decide(.reader(writerNames: ["__WRIT__", "__lock__"]), maxLeases: .max, ordered: rw, index: 1)
        #expect(reader == .watch("y__lock__0000000000"), "a kazoo write lock before a reader blocks it")
    }
}
