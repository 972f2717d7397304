import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ZooKeeperProtocol

/// Four-letter-word answers in Apache ZooKeeper 3.8's exact formats (tools such as zktop and monitoring
/// scripts parse them), computed on the pipeline thread.
extension PipelineState {
    /// What we report as our version: Apache's shape (`x.y.z-<id>, built on <date>`) so parsers work.
    static let versionLine = "3.8.0-shepherd, built on 2026-11-24 00:00 UTC"

    func fourLetterWordResponse(_ command: String) -> String {
        let whitelist = configuration.fourLetterWordWhitelist
        // Apache adds `isro` with `readonlymode.enabled`: clients on a read-only server probe with it.
        let readOnlyProbe = command == "isro" && configuration.readOnlyModeEnabled
        guard whitelist.contains("*") || whitelist.contains(command) || readOnlyProbe else {
            return "\(command) is not executed because it is not in the whitelist.\n"
        }
        if let member, member.serving == nil, !member.readOnly, Self.needsServing.contains(command) {
            return "This ZooKeeper instance is not currently serving requests\n"
        }
        switch command {
        case "ruok": return "imok"
        case "isro": return member.map { $0.readOnly ? "ro" : $0.serving == nil ? "null" : "rw" } ?? "rw"
        case "srvr": return versionHeader() + readOnlyLine() + serverSummary()
        case "stat": return versionHeader() + readOnlyLine() + "Clients:\n" + connectionLines(detailed: false) + "\n" + serverSummary()
        case "cons": return connectionLines(detailed: true) + "\n"
        case "crst":
            for id in connections.keys { connections[id]?.resetCounters() }
            return "Connection stats reset.\n"
        case "srst":
            statistics.reset()
            metrics.reset()  // ServerStats.reset → ServerMetrics.resetAll
            return "Server stats reset.\n"
        case "conf": return configurationLines()
        case "envi": return environmentLines()
        case "mntr": return monitorLines()
        case "wchs": return watchSummary()
        case "wchc": return watchesBySession()
        case "wchp": return watchesByPath()
        case "dump": return dumpLines()
        case "dirs": return "datadir_size: \(directorySize(configuration.dataDirectory))\nlogdir_size: \(directorySize(configuration.dataLogDirectory ?? configuration.dataDirectory))\n"
        case "gtmk": return "\(traceMask)"
        default: return ""
        }
    }

    /// The commands Apache answers only while its ZooKeeperServer runs (a LOOKING member does not).
    static let needsServing: Set<String> = ["srvr", "stat", "cons", "crst", "srst", "conf", "mntr", "wchs", "wchc", "wchp", "dump", "dirs"]

    private func versionHeader() -> String { "Zookeeper version: \(Self.versionLine)\n" }

    /// Apache's `StatCommand` prints it under the version line of a `ReadOnlyZooKeeperServer`.
    private func readOnlyLine() -> String { isReadOnly ? "READ-ONLY mode; serving only read-only clients\n" : "" }

    private func hex(_ value: Int64) -> String { "0x" + String(UInt64(bitPattern: value), radix: 16) }

    private func serverSummary() -> String {
        """
        Latency min/avg/max: \(statistics.minLatencyForDisplay)/\(Self.javaDouble(statistics.averageLatency, digits: 4))/\(statistics.maxLatency)
        Received: \(statistics.packetsReceived)
        Sent: \(statistics.packetsSent)
        Connections: \(connections.count)
        Outstanding: 0
        Zxid: \(hex(database.lastProcessedZxid))
        Mode: \(member?.mode ?? "standalone")
        Node count: \(database.nodeCount)

        """ + (leaderProposalSizes.map { "Proposal sizes last/min/max: \($0.last)/\($0.min)/\($0.max)\n" } ?? "")
    }

    /// A serving leader's proposal sizes (Apache's `srvr`, `stat` and admin `proposal_stats` show them); nil otherwise.
    var leaderProposalSizes: BufferStats? {
        guard let member, member.serving?.state == .leading else { return nil }
        return member.link.ensembleStatus.proposalSizes
    }

    private func connectionLines(detailed: Bool) -> String {
        var text = ""
        for info in connections.values.sorted(by: { $0.id < $1.id }) {
            let interest = info.sessionID == nil ? 0 : 1
            text += " /\(info.remote)[\(interest)](queued=0,recved=\(info.received),sent=\(info.sent)"
            if detailed, let session = info.sessionID {
                let timeout = sessions.sessions[session]?.timeout ?? 0
                let average = info.latencyCount == 0 ? 0 : info.totalLatency / info.latencyCount
                text += ",sid=\(hex(session)),lop=\(info.lastOperation),est=\(info.established),to=\(timeout),lcxid=0x\(String(UInt32(bitPattern: info.lastCxid), radix: 16)),lzxid=\(hex(info.lastZxid)),lresp=\(info.lastResponseTime),llat=\(info.lastLatency),minlat=\(info.latencyCount == 0 ? 0 : info.minLatency),avglat=\(average),maxlat=\(info.maxLatency)"
            }
            text += ")\n"
        }
        return text
    }

    private func configurationLines() -> String {
        let dataDir = (configuration.dataDirectory ?? "") + "/version-2"
        let logDir = (configuration.dataLogDirectory ?? configuration.dataDirectory ?? "") + "/version-2"
        return """
            clientPort=\(network?.port ?? configuration.clientPort)
            secureClientPort=-1
            dataDir=\(dataDir)
            dataDirSize=\(directorySize(configuration.dataDirectory))
            dataLogDir=\(logDir)
            dataLogSize=\(directorySize(configuration.dataLogDirectory ?? configuration.dataDirectory))
            tickTime=\(configuration.tickTime)
            maxClientCnxns=\(configuration.maxClientConnections)
            minSessionTimeout=\(configuration.effectiveMinSessionTimeout)
            maxSessionTimeout=\(configuration.effectiveMaxSessionTimeout)
            clientPortListenBacklog=-1
            serverId=\(configuration.serverID ?? 0)

            """ + quorumConfigurationLines()
    }

    /// What `QuorumZooKeeperServer.dumpConf` adds; the membership is the config string, without a final newline.
    private func quorumConfigurationLines() -> String {
        guard isMember, let quorum = configuration.quorum, let id = configuration.serverID, let me = quorum.servers[id] else { return "" }
        let fields = """
            initLimit=\(configuration.initLimit)
            syncLimit=\(configuration.syncLimit)
            electionAlg=3
            electionPort=\(me.electionPort)
            quorumPort=\(me.quorumPort)
            peerType=\(me.type == .participant ? 0 : 1)

            """
        // `ReadOnlyZooKeeperServer.dumpConf` ends there: no membership.
        return isReadOnly ? fields : fields + "membership: \n" + quorum.configString
    }

    /// `envi`: ``environmentFacts()`` as `key=value` lines.
    private func environmentLines() -> String {
        "Environment:\n" + environmentFacts().map { "\($0.key)=\($0.value)\n" }.joined()
    }

    /// Apache's `envi` keys minus the `java.*` ones, in Apache's order, with Java's meanings:
    /// `os.name`/`os.arch`/`os.version` from uname (`Linux`, `amd64`, kernel release).
    func environmentFacts() -> [(key: String, value: String)] {
        let process = ProcessInfo.processInfo
        let system = Self.uname()
        let megabyte: UInt64 = 1_048_576
        let pageSize = UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 0))
        let freeBytes = UInt64(max(sysconf(Int32(_SC_AVPHYS_PAGES)), 0)) * pageSize
        let user = Self.userFacts()
        return [
            ("zookeeper.version", Self.versionLine),
            ("host.name", process.hostName),
            ("os.name", system.name),
            ("os.arch", system.arch),
            ("os.version", system.release),
            ("user.name", user.name),
            ("user.home", user.home),
            ("user.dir", FileManager.default.currentDirectoryPath),
            ("os.memory.free", "\(freeBytes / megabyte)MB"),
            ("os.memory.max", "\(process.physicalMemory / megabyte)MB"),
            ("os.memory.total", "\(process.physicalMemory / megabyte)MB"),
        ]
    }

    /// The effective user's name and home directory (Java's `user.name`, `user.home`).
    static func userFacts() -> (name: String, home: String) {
        let process = ProcessInfo.processInfo
        let user = getpwuid(geteuid())
        let userName = user.map { String(cString: $0.pointee.pw_name) } ?? (process.environment["USER"] ?? "?")
        let home = user.map { String(cString: $0.pointee.pw_dir) } ?? (process.environment["HOME"] ?? "?")
        return (userName, home)
    }

    /// uname(2) with Java's names for the architecture (`x86_64` is `amd64` to Java).
    static func uname() -> (name: String, arch: String, release: String) {
        var info = utsname()
        guard Glibc.uname(&info) == 0 else { return ("?", "?", "?") }
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let machine = text(info.machine)
        return (text(info.sysname), machine == "x86_64" ? "amd64" : machine, text(info.release))
    }

    static func maxFileDescriptors() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return -1 }
        return limit.rlim_cur >= rlim_t(Int32.max) ? Int(Int32.max) : Int(limit.rlim_cur)
    }

    /// `mntr`: ``monitorValues()`` as `zk_<key>\t<value>` lines.
    private func monitorLines() -> String {
        monitorValues().map { "zk_\($0.key)\t\($0.value.text)\n" }.joined()
    }

    /// `wchs`: data (and exists) watches only, as Apache's `dumpWatchesSummary`.
    private func watchSummary() -> String { database.watchSummaryText + "\n" }
    private func watchesBySession() -> String { database.watchesBySessionText + "\n" }
    private func watchesByPath() -> String { database.watchesByPathText + "\n" }

    private func dumpLines() -> String {
        var text = "SessionTracker dump:\nSession Sets (\(sessions.byExpiry.count))/(\(sessions.sessions.count)):\n"
        for (time, ids) in sessions.byExpiry {
            text += "\(ids.count) expire at \(Self.javaDate(wallNow + (time - monotonicNow))):\n"
            text += ids.map { "\t\(hex($0))\n" }.joined()
        }
        let ephemerals = database.ephemeralsBySession
        text += "ephemeral nodes dump:\nSessions with Ephemerals (\(ephemerals.count)):\n"
        for session in ephemerals.keys.sorted() {
            text += "\(hex(session)):\n" + ephemerals[session]!.sorted().map { "\t\($0)\n" }.joined()
        }
        text += "Connections dump:\nConnections Sets (1)/(\(connections.count)):\n\(connections.count) expire at \(Self.javaDate(wallNow)):\n"
        for info in connections.values.sorted(by: { $0.id < $1.id }) {
            text += "\tip: /\(info.remote) sessionId: \(hex(info.sessionID ?? 0))\n"
        }
        return text
    }

    func directorySize(_ path: String?) -> Int {
        guard let path else { return 0 }
        let directory = path + "/version-2"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.reduce(0) { total, name in
            // A file that vanished meanwhile (purged) counts as empty: this is a statistic, not I/O that matters.
            let size = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + name))?[.size] as? Int
            return total + (size ?? 0)
        }
    }

    static func openFileDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }

    /// Java's `Double.toString` for the values we print: at least one decimal, trailing zeros trimmed.
    static func javaDouble(_ value: Double, digits: Int) -> String {
        var text = String(format: "%.\(digits)f", value)
        while text.hasSuffix("0") && !text.hasSuffix(".0") { text.removeLast() }
        return text
    }

    /// `java.util.Date.toString()`: `Tue Nov 24 03:24:19 UTC 2026`.
    static func javaDate(_ milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE MMM dd HH:mm:ss 'UTC' yyyy"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}

extension ConnectionInfo {
    mutating func resetCounters() {
        received = 0
        sent = 0
        lastLatency = 0
        minLatency = .max
        maxLatency = 0
        totalLatency = 0
        latencyCount = 0
    }
}
