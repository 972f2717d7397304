import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One Apache ZooKeeper 3.8 standalone server (`ZooKeeperServerMain`) run from the Debian jars in
/// `/usr/share/java`, on 127.0.0.1, with its own temporary directory (config, data, log).
///
/// - The client port is picked by binding port 0 first; if another process grabs it before the
///   JVM binds it, the first ``start()`` notices ("Address already in use") and retries with a
///   new port. ``restart()`` keeps the port and the data directory.
/// - ``start()`` returns once `ruok` answers `imok` and `srvr` reports `Mode: standalone`.
/// - The JVM dies with the test process, however that process ends (normal exit, crash,
///   SIGKILL): each start also spawns a tiny `/bin/sh` reaper whose stdin is the read end of a
///   pipe that only this process holds the (close-on-exec) write end of. When this process dies
///   the kernel closes the write end, the reaper's `read` hits EOF, and it SIGKILLs the JVM and
///   removes the temporary directory. On a normal ``stop()`` the reaper is killed first.
///   (Linux's `PR_SET_PDEATHSIG` is not reachable through posix_spawn, and an `atexit` hook
///   would not run on a crash or SIGKILL; the pipe covers both.)
/// - The server log (log4j console appender, plus the JVM's own stderr) goes to ``logFile``.
///   Set `SHEPHERD_KEEP_ZK_DIRS=1` to keep the directory after cleanup for post-mortems.
///
/// Not meant for concurrent `start`/`stop` calls on the same instance.
public final class ApacheZooKeeper: Sendable {
    /// Server settings written to `zoo.cfg` and the JVM command line.
    public struct Configuration: Sendable {
        /// `tickTime` in milliseconds (session timeouts are bounded to 2–20 ticks by default).
        public var tickTime: Int
        /// `minSessionTimeout` in milliseconds; nil = server default (2 × tickTime).
        public var minSessionTimeout: Int?
        /// `maxSessionTimeout` in milliseconds; nil = server default (20 × tickTime).
        public var maxSessionTimeout: Int?
        /// Extra `zoo.cfg` lines, e.g. `"forceSync=no"`, `"jute.maxbuffer=…"` (server side).
        public var extraConfig: [String]
        /// Extra JVM options, e.g. `"-Dzookeeper.extendedTypesEnabled=true"`.
        public var javaOptions: [String]
        /// Maximum JVM heap (`-Xmx`).
        public var heap: String
        /// How long ``ApacheZooKeeper/start()`` waits for readiness.
        public var startTimeout: Duration
        /// How long ``ApacheZooKeeper/stop()`` waits after SIGTERM before SIGKILL.
        public var stopTimeout: Duration
        /// JVM tuning flags. The default favours fast start-up for tests (serial GC, C1 only);
        /// pass `[]` for the JVM's own defaults, as `zkServer.sh` runs it (benchmarks).
        public var jvmTuning: [String]
        /// How often ``ApacheZooKeeper/start()`` probes readiness (`ruok` + `srvr`).
        public var readinessPollInterval: Duration
        /// Run as one member of an ensemble (`QuorumPeerMain`) instead of standalone.
        public var quorumMember: QuorumMember?
        /// Run Apache's Jetty admin server on a free loopback port (``ApacheZooKeeper/adminPort``); needs
        /// Debian's `libjetty9-java` and Jackson jars (``ApacheZooKeeper/adminClassPath``).
        public var adminServer = false

        public static let fastStartupJVMTuning = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]

        public init(
            tickTime: Int = 2000,
            minSessionTimeout: Int? = nil,
            maxSessionTimeout: Int? = nil,
            extraConfig: [String] = [],
            javaOptions: [String] = [],
            heap: String = "256m",
            startTimeout: Duration = .seconds(60),
            stopTimeout: Duration = .seconds(10),
            jvmTuning: [String] = Configuration.fastStartupJVMTuning,
            readinessPollInterval: Duration = .milliseconds(100),
            quorumMember: QuorumMember? = nil,
            adminServer: Bool = false
        ) {
            self.adminServer = adminServer
            self.tickTime = tickTime
            self.minSessionTimeout = minSessionTimeout
            self.maxSessionTimeout = maxSessionTimeout
            self.extraConfig = extraConfig
            self.javaOptions = javaOptions
            self.heap = heap
            self.startTimeout = startTimeout
            self.stopTimeout = stopTimeout
            self.jvmTuning = jvmTuning
            self.readinessPollInterval = readinessPollInterval
            self.quorumMember = quorumMember
        }
    }

    /// An ensemble member's identity and the ensemble's `server.N` lines.
    public struct QuorumMember: Sendable {
        /// Written to `data/myid`.
        public var myid: Int64
        /// Complete `server.N=host:quorumPort:electionPort[...]` lines, this member's included.
        public var serverLines: [String]
        /// What ``ApacheZooKeeper/start()`` waits for: a `srvr` mode (`leader`/`follower`), or nothing
        /// (nil: return once the JVM runs, for members whose ensemble cannot form yet).
        public var readyModes: Set<String>?
        public init(myid: Int64, serverLines: [String], readyModes: Set<String>? = ["leader", "follower"]) {
            self.myid = myid
            self.serverLines = serverLines
            self.readyModes = readyModes
        }
    }

    /// The Java launcher used.
    public static let javaPath = "/usr/bin/java"
    /// The jars needed by a standalone server with the admin server disabled (NIO connection
    /// factory, log4j 1.2 through slf4j), as installed by Debian's `libzookeeper-java`.
    public static let classPath: [String] = [
        "zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-log4j12.jar", "log4j-1.2.jar",
    ].map { "/usr/share/java/" + $0 }

    /// True when java and every jar of ``classPath`` are present.
    public static var isInstalled: Bool {
        access(javaPath, X_OK) == 0 && classPath.allSatisfy { access($0, R_OK) == 0 }
    }

    /// The jars Apache's Jetty admin server adds (Debian's `libjetty9-java`, `libjackson2-*`, servlet API).
    public static let adminClassPath: [String] = [
        "jetty9-server.jar", "jetty9-servlet.jar", "jetty9-http.jar", "jetty9-io.jar", "jetty9-util.jar",
        "jetty9-security.jar", "servlet-api.jar", "jackson-core.jar", "jackson-databind.jar", "jackson-annotations.jar",
    ].map { "/usr/share/java/" + $0 }

    /// True when the admin server's jars are present too.
    public static var isAdminServerInstalled: Bool {
        isInstalled && adminClassPath.allSatisfy { access($0, R_OK) == 0 }
    }

    /// The admin server's port when ``Configuration/adminServer`` is set.
    public let adminPort: Int?

    public let configuration: Configuration
    /// Always 127.0.0.1 (the server binds `clientPortAddress=127.0.0.1`).
    public let host = "127.0.0.1"
    /// The temporary directory holding `zoo.cfg`, `data/` and the log.
    public let directory: String
    public var dataDirectory: String { directory + "/data" }
    public var configFile: String { directory + "/zoo.cfg" }
    /// The server's log (log4j console output and JVM stderr), appended across restarts.
    public var logFile: String { directory + "/zookeeper.log" }

    private struct State {
        var port: Int
        /// The server has bound `port` at least once: from now on the port never changes.
        var portConfirmed = false
        var javaPid: pid_t?
        var reaperPid: pid_t?
        var lifelineWriteEnd: Int32 = -1
        var directoryRemoved = false
    }
    private let state: Mutex<State>

    /// Creates the temporary directory and picks a free port; does not start the server.
    public init(configuration: Configuration = Configuration()) throws {
        guard Self.isInstalled else {
            throw TestSupportError(Self.notInstalledMessage)
        }
        self.configuration = configuration
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/shepherd-zk-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestSupportError.posix("mkdtemp(\(base))")
        }
        directory = String(cString: made)
        state = Mutex(State(port: try SocketHelpers.freeLoopbackPort()))
        adminPort = configuration.adminServer ? try SocketHelpers.freeLoopbackPort() : nil
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        try log4jProperties.write(toFile: directory + "/log4j.properties", atomically: true, encoding: .utf8)
        if let member = configuration.quorumMember {
            try "\(member.myid)\n".write(toFile: dataDirectory + "/myid", atomically: true, encoding: .utf8)
        }
    }

    deinit {
        cleanup()
    }

    /// Why ``isInstalled`` is false: what is missing and how to install it.
    public static let notInstalledMessage =
        "Apache ZooKeeper 3.8 is not installed (need \(javaPath) and \(classPath.joined(separator: ", "))); "
        + "install the Debian packages zookeeper, zookeeper-bin, libzookeeper-java (as .ci/run does)"

    /// The client port (stable across ``restart()``).
    public var port: Int { state.withLock { $0.port } }
    /// `127.0.0.1:<port>`.
    public var connectString: String { "\(host):\(port)" }
    /// The JVM's PID while it runs (as far as this object knows).
    public var pid: Int32? { state.withLock { $0.javaPid } }
    /// True while the JVM this object started has not been seen to exit.
    public var isRunning: Bool {
        state.withLock { state in
            guard let pid = state.javaPid else { return false }
            if let status = ChildProcess.tryReap(pid) {
                _ = status
                state.javaPid = nil
                return false
            }
            return true
        }
    }

    // MARK: Lifecycle

    /// Starts the server and waits (bounded by `startTimeout`) until it serves.
    /// Throws with the log tail when the JVM exits or the deadline passes.
    public func start() async throws {
        for attempt in 1...5 {
            let outcome = try await startOnce()
            switch outcome {
            case .ready:
                return
            case .portTaken where attempt < 5:
                let confirmed = state.withLock { $0.portConfirmed }
                if confirmed {
                    throw TestSupportError("port \(port) is taken by another process; cannot restart on it.\n\(logTail())")
                }
                let newPort = try SocketHelpers.freeLoopbackPort()
                state.withLock { $0.port = newPort }
            case .portTaken:
                throw TestSupportError("could not bind a free port after \(attempt) attempts.\n\(logTail())")
            }
        }
    }

    /// SIGTERM, then SIGKILL if the JVM has not exited within `stopTimeout`; waits for the exit.
    /// Does nothing if the server is not running.
    public func stop() async throws {
        try await terminate(signal: SIGTERM, grace: configuration.stopTimeout)
    }

    /// SIGKILL (a crash: no clean shutdown), waiting for the exit.
    public func kill() async throws {
        try await terminate(signal: SIGKILL, grace: .zero)
    }

    /// ``stop()`` then ``start()``, same port and data directory.
    public func restart() async throws {
        try await stop()
        try await start()
    }

    /// Kills the server if it runs (SIGKILL, bounded wait) and removes the directory (unless
    /// `SHEPHERD_KEEP_ZK_DIRS=1`). Idempotent; also run by deinit.
    public func cleanup() {
        let (java, reaper, lifeline, remove) = state.withLock { state in
            let result = (state.javaPid, state.reaperPid, state.lifelineWriteEnd, !state.directoryRemoved)
            state.javaPid = nil
            state.reaperPid = nil
            state.lifelineWriteEnd = -1
            state.directoryRemoved = true
            return result
        }
        if let java {
            Glibc.kill(java, SIGKILL)
            _ = ChildProcess.waitForExitBlocking(java, within: .seconds(10))
        }
        Self.dismissReaper(reaper, lifeline)
        if remove && ProcessInfo.processInfo.environment["SHEPHERD_KEEP_ZK_DIRS"] != "1" {
            try? FileManager.default.removeItem(atPath: directory)  // best effort: a temp dir
        }
    }

    /// The last `maxBytes` of the server log, for failure messages.
    public func logTail(maxBytes: Int = 16_384) -> String {
        guard let handle = FileHandle(forReadingAtPath: logFile) else { return "(no server log at \(logFile))" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(maxBytes) ? size - UInt64(maxBytes) : 0
        try? handle.seek(toOffset: start)
        let data = (try? handle.readToEnd()) ?? Data()
        return "--- \(logFile) (last \(data.count) bytes) ---\n" + String(decoding: data, as: UTF8.self)
    }

    // MARK: Internals

    private enum StartOutcome { case ready, portTaken }

    private func startOnce() async throws -> StartOutcome {
        if isRunning { return .ready }
        let port = self.port
        try configText(port: port).write(toFile: configFile, atomically: true, encoding: .utf8)
        let logOffset = (try? FileManager.default.attributesOfItem(atPath: logFile)[.size] as? UInt64) ?? 0

        let java = try ChildProcess.spawn(
            path: Self.javaPath, arguments: javaArguments(), input: .devNull, outputFile: logFile)
        // The reaper: see the type's documentation. Its stdin is the pipe's read end.
        let ends: (read: Int32, write: Int32)
        do {
            ends = try ChildProcess.makeLifelinePipe()
        } catch {
            Glibc.kill(java, SIGKILL)
            _ = await ChildProcess.waitForExit(java, within: .seconds(10))
            throw error
        }
        let reaper: pid_t
        do {
            reaper = try ChildProcess.spawn(
                path: "/bin/sh",
                arguments: ["-c", Self.reaperScript, "shepherd-zk-reaper", String(java), directory],
                input: .descriptor(ends.read), outputFile: nil)
        } catch {
            close(ends.read)
            close(ends.write)
            Glibc.kill(java, SIGKILL)
            _ = await ChildProcess.waitForExit(java, within: .seconds(10))
            throw error
        }
        close(ends.read)
        state.withLock {
            $0.javaPid = java
            $0.reaperPid = reaper
            $0.lifelineWriteEnd = ends.write
        }

        let clock = ContinuousClock()
        let deadline = clock.now + configuration.startTimeout
        while clock.now < deadline {
            if let status = ChildProcess.tryReap(java) {
                let (reaperPid, lifeline) = state.withLock { state in
                    defer {
                        state.javaPid = nil
                        state.reaperPid = nil
                        state.lifelineWriteEnd = -1
                    }
                    return (state.reaperPid, state.lifelineWriteEnd)
                }
                Self.dismissReaper(reaperPid, lifeline)
                let newLog = logText(from: logOffset)
                if newLog.contains("Address already in use") { return .portTaken }
                throw TestSupportError(
                    "Apache ZooKeeper \(ChildProcess.describe(status: status)) during startup on port \(port).\n\(logTail())")
            }
            if serving(port: port) {
                state.withLock { $0.portConfirmed = true }
                return .ready
            }
            try await Task.sleep(for: configuration.readinessPollInterval)
        }
        var reason = "Apache ZooKeeper did not become ready within \(configuration.startTimeout) on port \(port)"
        do {
            try await kill()
        } catch {
            reason += " (and killing it failed: \(error))"
        }
        throw TestSupportError("\(reason).\n\(logTail())")
    }

    /// `ruok` → `imok` and `srvr` → `Mode: standalone`.
    private func serving(port: Int) -> Bool {
        guard (try? sendFourLetterWord("ruok", host: host, port: port, timeout: .seconds(2))) == "imok" else {
            return false
        }
        guard let srvr = try? sendFourLetterWord("srvr", host: host, port: port, timeout: .seconds(2)) else {
            return false
        }
        guard let member = configuration.quorumMember else { return srvr.contains("Mode: standalone") }
        guard let modes = member.readyModes else { return true }
        return modes.contains { srvr.contains("Mode: \($0)") }
    }

    private func terminate(signal: Int32, grace: Duration) async throws {
        let (java, reaper, lifeline) = state.withLock { ($0.javaPid, $0.reaperPid, $0.lifelineWriteEnd) }
        guard let java else { return }
        // The reaper goes first so that it can never signal a recycled PID.
        Self.dismissReaper(reaper, lifeline)
        state.withLock {
            $0.reaperPid = nil
            $0.lifelineWriteEnd = -1
        }
        Glibc.kill(java, signal)
        var exited = await ChildProcess.waitForExit(java, within: grace)
        if !exited {
            Glibc.kill(java, SIGKILL)
            exited = await ChildProcess.waitForExit(java, within: .seconds(10))
        }
        guard exited else {
            throw TestSupportError("Apache ZooKeeper pid \(java) survived SIGKILL for 10 s")
        }
        state.withLock { $0.javaPid = nil }
    }

    private static func dismissReaper(_ reaper: pid_t?, _ lifeline: Int32) {
        if let reaper {
            Glibc.kill(reaper, SIGKILL)
            _ = ChildProcess.waitForExitBlocking(reaper, within: .seconds(5))
        }
        if lifeline >= 0 { close(lifeline) }
    }

    /// `$1` = JVM pid, `$2` = directory. Blocks in `read` until the pipe's write end closes (only
    /// when the test process dies: on a normal stop this shell is SIGKILLed first), then kills the
    /// JVM, waits (bounded, 10 s) for it to disappear, and removes the directory.
    static let reaperScript = """
        read -r _ignored
        kill -KILL "$1" 2>/dev/null
        i=0
        while kill -0 "$1" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        [ "${SHEPHERD_KEEP_ZK_DIRS:-0}" = 1 ] || rm -rf "$2"
        """

    private func javaArguments() -> [String] {
        [
            "-Xms32m", "-Xmx\(configuration.heap)",
        ] + configuration.jvmTuning + [
            "-Djava.net.preferIPv4Stack=true",
            "-Dlog4j.configuration=file:\(directory)/log4j.properties",
            "-Dzookeeper.admin.enableServer=\(adminPort != nil)",
            "-Dzookeeper.4lw.commands.whitelist=*",
        ] + configuration.javaOptions + [
            "-cp", (Self.classPath + (adminPort != nil ? Self.adminClassPath : [])).joined(separator: ":"),
            configuration.quorumMember == nil
                ? "org.apache.zookeeper.server.ZooKeeperServerMain" : "org.apache.zookeeper.server.quorum.QuorumPeerMain",
            configFile,
        ]
    }

    private func configText(port: Int) -> String {
        var lines = [
            "tickTime=\(configuration.tickTime)",
            "initLimit=10",
            "syncLimit=5",
            "dataDir=\(dataDirectory)",
            "clientPort=\(port)",
            "clientPortAddress=127.0.0.1",
            "maxClientCnxns=0",
            "4lw.commands.whitelist=*",
        ]
        if let adminPort {
            lines += ["admin.enableServer=true", "admin.serverAddress=127.0.0.1", "admin.serverPort=\(adminPort)"]
        } else {
            lines.append("admin.enableServer=false")
        }
        if let min = configuration.minSessionTimeout { lines.append("minSessionTimeout=\(min)") }
        if let max = configuration.maxSessionTimeout { lines.append("maxSessionTimeout=\(max)") }
        lines += configuration.extraConfig
        lines += configuration.quorumMember?.serverLines ?? []
        return lines.joined(separator: "\n") + "\n"
    }

    private var log4jProperties: String {
        """
        log4j.rootLogger=INFO, CONSOLE
        log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
        log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
        log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n

        """
    }

    private func logText(from offset: UInt64) -> String {
        guard let handle = FileHandle(forReadingAtPath: logFile) else { return "" }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }
}
