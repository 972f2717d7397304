import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 3-node (or N-node) Apache ZooKeeper 3.8 ensemble on loopback for tests, run by the repository's
/// `docker/local-ensemble.sh` (Debian jars, no docker) with a state directory of its own.
///
/// ```swift
/// try await withApacheEnsemble(tickTime: 200) { ensemble in   // sessions of 0.4–4 s allowed; stopped on every exit
///     let client = try await ZooKeeperClient.connect(.init(connectionString: ensemble.connectString))
///     try await ensemble.kill(node: ensemble.leader())
///     …
/// }
/// ```
///
/// - Each ensemble lives in a fresh temporary directory (`SHEPHERD_ENSEMBLE_DIR`), so several can
///   run at once and nothing is shared with a developer's own ensemble.
/// - The nodes die with the test process however it ends: a lifeline reaper (a `/bin/sh` in a
///   process group of its own, blocked reading a pipe whose only write end this process holds)
///   runs the script's `stop` and removes the directory when the pipe closes — on a crash, a
///   SIGKILL, or when the ensemble is deinitialised without ``stop()``.
/// - Node numbers are 1–N (3 unless `nodes` said otherwise), in the order of ``servers``.
public final class ApacheEnsemble: Sendable {
    /// The launcher script, found from this file's location in the package.
    public static let scriptPath: String = {
        // <root>/Sources/ZooKeeperTestSupport/ApacheEnsemble.swift → <root>/docker/local-ensemble.sh
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docker/local-ensemble.sh").path
    }()

    /// True when the Apache jars, java, bash and the script are present.
    public static var isInstalled: Bool {
        ApacheZooKeeper.isInstalled && access(scriptPath, R_OK) == 0 && access("/bin/bash", X_OK) == 0
    }

    /// Why ``isInstalled`` is false.
    public static var notInstalledMessage: String {
        access(scriptPath, R_OK) == 0
            ? ApacheZooKeeper.notInstalledMessage : "the ensemble script is missing: \(scriptPath)"
    }

    /// The state directory (ports, `node1…N/{zoo.cfg,data,log}`), removed by ``stop()``.
    public let directory: String
    /// `tickTime` in milliseconds: session timeouts must lie in 2…20 ticks.
    public let tickTime: Int
    /// `127.0.0.1:<port>` of nodes 1, 2, 3…, in that order.
    public let servers: [String]
    /// The client addresses joined by `","`.
    public var connectString: String { servers.joined(separator: ",") }
    /// The launcher script this ensemble runs (``scriptPath`` unless another was given).
    public let launcher: String

    private struct Lifeline {
        var reaperPid: pid_t?
        var writeEnd: Int32 = -1
    }
    private let lifeline: Mutex<Lifeline>
    private let stopped = Mutex(false)

    private init(directory: String, tickTime: Int, servers: [String], launcher: String, lifeline: Lifeline) {
        self.directory = directory
        self.tickTime = tickTime
        self.servers = servers
        self.launcher = launcher
        self.lifeline = Mutex(lifeline)
    }

    deinit {
        // Without an explicit stop, closing the lifeline makes the reaper stop the nodes.
        lifeline.withLock { state in
            if state.writeEnd >= 0 { close(state.writeEnd) }
        }
    }

    /// Starts `nodes` nodes and waits (the script's bound, 60 s) for one leader and all others following.
    /// Throws ``TestSupportError`` when not installed or when the ensemble does not form.
    /// - Parameters:
    ///   - nodes: how many members (2–9; the script's `ZK_NODES`).
    ///   - launcher: a script with `docker/local-ensemble.sh`'s commands (zk-matrix's
    ///     `--ensemble-script`); by default the repository's own.
    ///   - shepherdNodes: the nodes (1–N) that run our `zk-server` instead of Apache's: all of them for a
    ///     Shepherd ensemble (no Java needed), some for a mixed one. Needs ``ShepherdServerProcess/binaryPath``.
    ///   - extraConfig: `key=value` lines added to every node's zoo.cfg (the script's `ZK_EXTRA_CONFIG`),
    ///     e.g. `preAllocSize=1024`: every leader change starts a new transaction log, preallocated 64 MiB
    ///     ahead by default, so an ensemble whose leaders are killed many times keeps its logs small with it.
    ///   - peerLinks: proxies the members reach each other through (fixed ports, per-node server lines);
    ///     the caller stops them after the ensemble. See ``withPeerPartitionedEnsemble(tickTime:shepherdNodes:extraConfig:isolation:_:)``.
    public static func start(
        nodes: Int = 3, tickTime: Int = 1000, launcher: String = scriptPath, shepherdNodes: [Int] = [],
        extraConfig: [String] = [], peerLinks: PeerPartitions? = nil
    ) async throws -> ApacheEnsemble {
        guard access(launcher, R_OK) == 0 else { throw TestSupportError("the ensemble script is missing: \(launcher)") }
        guard (Set(shepherdNodes) == Set(1...max(nodes, 1)) || ApacheZooKeeper.isInstalled) && access("/bin/bash", X_OK) == 0 else {
            throw TestSupportError(ApacheZooKeeper.notInstalledMessage)
        }
        var environment = ["ZK_NODES=\(nodes)"]
        if !shepherdNodes.isEmpty {
            guard let binary = ShepherdServerProcess.binaryPath else { throw TestSupportError(ShepherdServerProcess.notBuiltMessage) }
            environment += ["ZK_SERVER=\(binary)", "ZK_SHEPHERD_NODES=\(shepherdNodes.map(String.init).joined(separator: " "))"]
        }
        if !extraConfig.isEmpty { environment.append("ZK_EXTRA_CONFIG=\(extraConfig.joined(separator: " "))") }
        if let peerLinks { environment += peerLinks.environment }
        let directory = try makeTemporaryDirectory()
        let lifeline: Lifeline
        do {
            lifeline = try startReaper(directory: directory, launcher: launcher)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        // Built before the nodes start, so a failed start is cleaned up by the same stop().
        let partial = ApacheEnsemble(directory: directory, tickTime: tickTime, servers: [], launcher: launcher, lifeline: lifeline)
        do {
            let connectString = try await partial.script(["start"], environment: environment)
            let servers = connectString.split(separator: ",").map(String.init)
            guard servers.count == nodes else { throw TestSupportError("unexpected connect string from start: \(connectString)") }
            // The lifeline moves to the complete value; `partial` then has nothing left to release.
            return ApacheEnsemble(directory: directory, tickTime: tickTime, servers: servers, launcher: launcher,
                                  lifeline: partial.takeLifeline())
        } catch {
            await partial.stop()
            throw error
        }
    }

    /// Stops every node this ensemble started (SIGTERM, then SIGKILL after 10 s), removes the
    /// directory and dismisses the reaper. Idempotent.
    public func stop() async {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        _ = try? await script("stop")
        if ProcessInfo.processInfo.environment["SHEPHERD_KEEP_ZK_DIRS"] != "1" {
            try? FileManager.default.removeItem(atPath: directory)  // best effort: a temp dir
        }
        let state = takeLifeline()
        if let reaper = state.reaperPid {
            Glibc.kill(reaper, SIGKILL)
            _ = ChildProcess.waitForExitBlocking(reaper, within: .seconds(5))
        }
        if state.writeEnd >= 0 { close(state.writeEnd) }
    }

    /// The node number (1–N) that reports `Mode: leader`.
    public func leader() async throws -> Int {
        try node(from: try await script("leader"))
    }

    /// A node number (1–N) that reports `Mode: follower`.
    public func follower() async throws -> Int {
        try node(from: try await script("follower"))
    }

    /// The node number (1–N) serving client port `port`.
    public func node(ofPort port: Int) async throws -> Int {
        try node(from: try await script("node-of", String(port)))
    }

    /// SIGKILLs node `node` (a crash: no clean shutdown).
    public func kill(node: Int) async throws {
        _ = try await script("kill", String(node))
    }

    /// Starts node `node` again, with its data; see ``waitHealthy()``.
    public func startNode(_ node: Int) async throws {
        _ = try await script("start-node", String(node))
    }

    /// Waits (bounded by the script, 60 s) until there is one leader and all other nodes follow.
    public func waitHealthy() async throws {
        _ = try await script("wait")
    }

    // MARK: Internals

    /// Runs the script with this ensemble's directory and tick; returns its last output line
    /// (the script logs to stderr first, then prints its answer).
    private func script(_ arguments: String...) async throws -> String {
        try await script(arguments, environment: [])
    }

    private func script(_ arguments: [String], environment: [String]) async throws -> String {
        let run = try await runTool(
            "/usr/bin/env",
            ["SHEPHERD_ENSEMBLE_DIR=\(directory)", "ZK_TICK=\(tickTime)"] + environment + ["/bin/bash", launcher] + arguments,
            timeout: .seconds(120))
        guard run.exitCode == 0 else {
            throw TestSupportError("local-ensemble.sh \(arguments.joined(separator: " ")): \(run)")
        }
        return run.output.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }

    private func node(from text: String) throws -> Int {
        guard let node = Int(text), (1...servers.count).contains(node) else { throw TestSupportError("not a node number: \(text)") }
        return node
    }

    private func takeLifeline() -> Lifeline {
        lifeline.withLock { state in
            defer { state = Lifeline() }
            return state
        }
    }

    private static func makeTemporaryDirectory() throws -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/shepherd-ensemble-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestSupportError.posix("mkdtemp(\(base))")
        }
        return String(cString: made)
    }

    /// `$1` = script, `$2` = directory. Blocks until the lifeline closes, then stops the nodes.
    /// Its own process group, so a Ctrl-C to the test's group does not kill it before it acts.
    private static let reaperScript = """
        read -r _ignored
        SHEPHERD_ENSEMBLE_DIR="$2" /bin/bash "$1" stop >/dev/null 2>&1
        [ "${SHEPHERD_KEEP_ZK_DIRS:-0}" = 1 ] || rm -rf "$2"
        """

    private static func startReaper(directory: String, launcher: String) throws -> Lifeline {
        let ends = try ChildProcess.makeLifelinePipe()
        defer { close(ends.read) }
        do {
            let reaper = try ChildProcess.spawn(
                path: "/bin/sh", arguments: ["-c", reaperScript, "shepherd-ensemble-reaper", launcher, directory],
                input: .descriptor(ends.read), outputFile: nil, newProcessGroup: true)
            return Lifeline(reaperPid: reaper, writeEnd: ends.write)
        } catch {
            close(ends.write)
            throw error
        }
    }
}

/// Starts an ``ApacheEnsemble``, runs `body` with it, and stops it (nodes killed, directory removed) before
/// returning — whether `body` returns or throws.
public func withApacheEnsemble<Result>(
    nodes: Int = 3,
    tickTime: Int = 1000,
    shepherdNodes: [Int] = [],
    extraConfig: [String] = [],
    isolation: isolated (any Actor)? = #isolation,
    _ body: (ApacheEnsemble) async throws -> Result
) async throws -> Result {
    let ensemble = try await ApacheEnsemble.start(nodes: nodes, tickTime: tickTime, shepherdNodes: shepherdNodes, extraConfig: extraConfig)
    return try await withCleanup({ await ensemble.stop() }) { try await body(ensemble) }
}
