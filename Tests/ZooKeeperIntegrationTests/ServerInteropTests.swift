import Foundation
import Testing
import ZooKeeperServer
import ZooKeeperTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Apache's own clients (kazoo, zkCli.sh, the Java client and Curator via the Java load harness, the C CLI)
/// against our server; where output can be compared, the same commands also run against a
/// private Apache server and the masked outputs must match line for line.
@Suite("Third-party clients against our server", .timeLimit(.minutes(3)))
struct ServerInteropTests {
    static let python = "/usr/bin/python3"
    static let zkCli = "/usr/share/zookeeper/bin/zkCli.sh"
    static let cCli = "/usr/lib/zookeeper/bin/cli_mt"
    /// What the repository's Java load harness (zk-bench's reference side) lacks here, if anything.
    static let harnessMissing = JavaLoadHarness.missing

    static var kazooInstalled: Bool {
        access(python, X_OK) == 0 && FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/kazoo/client.py")
    }

    @Test("kazoo: CRUD, ephemeral sequential, a data watch, Lock contention between two sessions, close",
          .enabled(if: kazooInstalled, "kazoo is not installed: apt-get install python3-kazoo (.ci/run does)"))
    func kazoo() async throws {
        try await withEmbeddedServer { server in
            let script = NSTemporaryDirectory() + "shepherd-kazoo-\(UUID().uuidString).py"
            try Self.kazooScript.write(toFile: script, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: script) }
            let run = try await runTool(Self.python, [script, server.connectString, "/kazoo-interop"], timeout: .seconds(90))
            let steps = run.output.split(separator: "\n").filter { $0.hasPrefix("OK ") }.map { String($0.dropFirst(3)) }
            #expect(steps == ["connect", "create", "get", "set", "nodeexists", "ephemeral-sequential", "watch",
                              "lock-a", "lock-contended", "lock-handover", "delete", "ephemeral-gone"], "\(run)")
            #expect(run.exitCode == 0 && run.output.contains("ALL OK"), "\(run)")
        }
    }

    // MARK: zkCli.sh

    /// Keeps the lines zkCli prints for the command (drops SLF4J noise and the connection banner),
    /// with timestamps, zxids and session ids masked.
    static func zkCliLines(_ output: String) -> [String] {
        let noise = ["SLF4J:", "Connecting to ", "WATCHER::", "WatchedEvent state:SyncConnected type:None path:null"]
        return output.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            .filter { line in !noise.contains { line.hasPrefix($0) } && !line.trimmingCharacters(in: .whitespaces).isEmpty }
            .map(maskVolatile)
    }

    static func maskVolatile(_ line: String) -> String {
        var line = line
        if line.hasPrefix("ctime = ") || line.hasPrefix("mtime = ") { line = String(line.prefix(8)) + "<date>" }
        line = line.replacingOccurrences(of: #"0x[0-9a-fA-F]+"#, with: "0x?", options: .regularExpression)
        return line
    }

    @Test("zkCli.sh create/get/ls/stat/set/delete, quotas and ACLs print the same lines as against Apache",
          .enabled(if: access(zkCli, X_OK) == 0 && ApacheZooKeeper.isInstalled,
                   "zkCli.sh or Apache ZooKeeper is not installed: apt-get install zookeeper (.ci/run does)"))
    func zkCliMatchesApache() async throws {
        try await withEmbeddedServer { ours in
            let apache = try await TestServerFixture.privateApacheServer()
            defer { apache.cleanup() }
            let commands: [[String]] = [
                ["create", "/x", "hi"], ["get", "/x"], ["ls", "/"], ["stat", "/x"], ["set", "/x", "again"],
                ["get", "-s", "/x"], ["create", "-e", "-s", "/x/e", ""], ["ls", "-s", "/x"], ["delete", "/x"],
                ["get", "/x"],
                ["create", "/q", "d"], ["setquota", "-n", "5", "/q"], ["listquota", "/q"], ["create", "/q/k"],
                ["listquota", "/q"], ["delquota", "-n", "/q"], ["listquota", "/q"],
                ["setAcl", "/q", "world:anyone:cdrw"], ["getAcl", "/q"], ["setAcl", "/q", "digest:u:bad"],
                ["create", "/q/k/e", "x", "digest:user:pUBBdmLoTdxKNT+1pk5q9b0bx9A=:cdrwa"], ["getAcl", "/q/k/e"],
                ["get", "/q/k/e"], ["delete", "/q"],
            ]
            for command in commands {
                async let fromOurs = Self.zkCliRun(ours.connectString, command)
                async let fromApache = Self.zkCliRun(apache.connectString, command)
                let (a, b) = try await (fromOurs, fromApache)
                #expect(Self.zkCliLines(a.output) == Self.zkCliLines(b.output),
                        "zkCli \(command.joined(separator: " ")): ours\n\(a.output)\nApache\n\(b.output)")
                #expect(a.exitCode == b.exitCode)
            }
        }
    }

    static func zkCliRun(_ server: String, _ command: [String]) async throws -> ToolRun {
        try await runTool("/usr/bin/env", ["JVMFLAGS=-Xmx64m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC", zkCli, "-server", server] + command,
                          timeout: .seconds(60))
    }

    // MARK: Java client and Curator (the Java load harness, on Debian's jars)

    /// Runs one harness mode against a fresh embedded server, stopped before this returns; the
    /// harness's JSON line. Its checks: the run's own verdict (`ok`: no violation, no failed request).
    static func runHarness(_ arguments: [String]) async throws -> (run: ToolRun, json: [String: Any]) {
        let harness = try await JavaLoadHarness.prepare(jvmOptions: JavaLoadHarness.testJVMOptions)
        let server = try await EmbeddedServer.start()
        let run = try await withCleanup({ await server.stop() }) {
            try await runTool(harness.executable, harness.arguments([arguments[0], "--connect", server.connectString]
                                                                    + arguments.dropFirst()),
                              timeout: .seconds(150))
        }
        let line = try #require(run.output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(run)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        #expect(json["ok"] as? Bool == true, "\(run)")
        #expect(run.exitCode == 0, "\(run)")
        return (run, json)
    }

    @Test("the Java client (harness latency mode: create, exists, get, set, delete, one at a time) completes against our server",
          .enabled(if: harnessMissing.isEmpty, "needs \(JavaLoadHarness.requirement): missing \(harnessMissing)"))
    func javaClientBench() async throws {
        let (run, json) = try await Self.runHarness(["latency", "--ops", "300", "--warmup-ops", "30"])
        let results = try #require(json["results"] as? [String: Any], "\(run)")
        for op in ["create", "exists_miss", "get", "set", "delete"] {
            let stats = results[op] as? [String: Any]
            #expect(stats?["n"] as? Int == 300, "\(op): \(String(describing: stats))")
        }
    }

    @Test("Curator's InterProcessMutex, InterProcessReadWriteLock and LeaderLatch work against our server",
          .enabled(if: harnessMissing.isEmpty, "needs \(JavaLoadHarness.requirement): missing \(harnessMissing)"),
          arguments: [
        ["mutex", "--clients", "4", "--seconds", "3", "--warmup", "1"],
        ["rwlock", "--writers", "2", "--readers", "3", "--seconds", "3", "--warmup", "1"],
        ["leader", "--participants", "3", "--rounds", "5"],
    ])
    func curatorRecipes(_ mode: [String]) async throws {
        let (run, json) = try await Self.runHarness(mode)
        let results = try #require(json["results"] as? [String: Any], "\(run)")
        // The harness's own witness (a guarded non-atomic counter; one leader per round) found no overlap.
        #expect(results["violations"] as? Int == 0, "\(run)")
        #expect(results["errors"] as? Int == 0, "\(run)")
        // Each mode made progress: lock cycles in the measured window (reads and writes), every failover round.
        func number(_ key: String, _ inner: String? = nil) -> Double {
            let value = inner.map { (results[key] as? [String: Any])?[$0] } ?? results[key]
            return (value as? NSNumber)?.doubleValue ?? 0
        }
        switch mode[0] {
        case "mutex": #expect(number("acquisitions") > 0, "\(run)")
        case "rwlock": #expect(number("reads_per_s") > 0 && number("writes_per_s") > 0, "\(run)")
        default: #expect(number("failover", "n") == 5, "\(run)")
        }
    }

    // MARK: C client CLI

    @Test("the C client CLI (cli_mt) prints the same as against Apache",
          .enabled(if: access(cCli, X_OK) == 0 && ApacheZooKeeper.isInstalled,
                   "cli_mt is not installed: apt-get install zookeeper-bin (.ci/run does)"))
    func cClientMatchesApache() async throws {
        try await withEmbeddedServer { ours in
            let apache = try await TestServerFixture.privateApacheServer()
            defer { apache.cleanup() }
            // (`exists` is left out: in one run cli_mt's batch mode never exited after it; which server it
            // ran against was not recorded; against ours by hand it exits at once. Unexplained so far.)
            for command in ["create /c", "ls /", "get /c", "delete /c", "get /c"] {
                let a = try await runTool(Self.cCli, [ours.connectString, "cmd:\(command)"], timeout: .seconds(30))
                let b = try await runTool(Self.cCli, [apache.connectString, "cmd:\(command)"], timeout: .seconds(30))
                #expect(Self.cCliLines(a.output) == Self.cCliLines(b.output), "cli_mt \(command): ours\n\(a.output)\nApache\n\(b.output)")
                #expect(a.exitCode == 0)
            }
        }
    }

    /// The C CLI prints timings, session ids and (async) log noise: mask numbers, drop timing lines.
    static func cCliLines(_ output: String) -> [String] {
        output.split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("time = ") && !$0.contains("ZOO_") && !$0.hasPrefix("Got a new session id") && !$0.hasPrefix("Watcher SESSION_EVENT") }
            .map { maskVolatile($0).replacingOccurrences(of: #"[0-9]{5,}"#, with: "<n>", options: .regularExpression)
                .replacingOccurrences(of: #"time ?= ?.*$"#, with: "time=<date>", options: .regularExpression) }
    }

    static let kazooScript = #"""
import sys, threading, time
from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError, NodeExistsError
hosts, root = sys.argv[1], sys.argv[2]
def step(name): print("OK", name, flush=True)
zk = KazooClient(hosts=hosts, timeout=10.0)
zk.start(timeout=15); step("connect")
zk.ensure_path(root)
zk.create(root + "/a", b"hello"); step("create")
data, stat = zk.get(root + "/a"); assert data == b"hello" and stat.version == 0, (data, stat); step("get")
stat = zk.set(root + "/a", b"world"); assert stat.version == 1, stat
assert zk.get(root + "/a")[0] == b"world"; step("set")
try:
    zk.create(root + "/a", b"")
    raise AssertionError("create twice succeeded")
except NodeExistsError: step("nodeexists")
p = zk.create(root + "/e-", b"", ephemeral=True, sequence=True)
assert p == root + "/e-0000000001", p
assert zk.exists(p).ephemeralOwner == zk.client_id[0]; step("ephemeral-sequential")
fired = threading.Event(); seen = []
def watcher(event): seen.append(event); fired.set()
zk.get(root + "/a", watch=watcher)
other = KazooClient(hosts=hosts, timeout=10.0); other.start(timeout=15)
other.set(root + "/a", b"changed")
assert fired.wait(10), "data watch did not fire"
assert seen[0].type == "CHANGED" and seen[0].path == root + "/a", seen; step("watch")
assert other.exists(p) is not None
lock_a = zk.Lock(root + "/lock", "a"); lock_b = other.Lock(root + "/lock", "b")
assert lock_a.acquire(timeout=10); step("lock-a")
got_b = threading.Event()
def contend():
    if lock_b.acquire(timeout=20): got_b.set()
t = threading.Thread(target=contend); t.start()
queued = threading.Event()
def on_children(children):
    if len(children) >= 2: queued.set()
other.ChildrenWatch(root + "/lock", on_children)
assert queued.wait(10), "b never queued"
assert lock_a.contenders() == ["a", "b"], lock_a.contenders()
assert not got_b.is_set(), "b got the lock while a held it"; step("lock-contended")
lock_a.release()
assert got_b.wait(10), "b never got the lock"; t.join(10); step("lock-handover")
lock_b.release()
zk.delete(root + "/a")
try: zk.get(root + "/a"); raise AssertionError("deleted node still there")
except NoNodeError: step("delete")
zk.stop(); zk.close()
gone = threading.Event()
if other.exists(p, watch=lambda event: gone.set()) is not None:
    assert gone.wait(10), "ephemeral survived close"
assert other.exists(p) is None, "ephemeral survived close"; step("ephemeral-gone")
other.delete(root, recursive=True)
other.stop(); other.close()
print("ALL OK", flush=True)
"""#
}
