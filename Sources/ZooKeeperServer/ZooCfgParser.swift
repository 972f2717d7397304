/// Reads a `zoo.cfg`-style file (Java properties: `key=value`, `#` comments) into a ``ServerConfiguration``.
///
/// Unknown keys and invalid values are errors naming the key, so a typo never silently falls back to a
/// default. Apache keys that have no meaning for a standalone server (`initLimit`, `audit.enable`, …) are
/// accepted and reported in ``Result/ignoredKeys``.
public enum ZooCfgParser {
    public struct Result: Sendable {
        public var configuration: ServerConfiguration
        /// Recognised Apache keys this server does not use.
        public var ignoredKeys: [String]
        /// The `server.N` lines, validated; nil when there are none.
        public var quorum: QuorumConfiguration?

        /// Apache runs standalone with at most one participant (`standaloneEnabled`, the default).
        public var isEnsemble: Bool { (quorum?.votingMembers.count ?? 0) > 1 }
    }

    /// A key that is unknown or whose value is invalid.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var line: Int
        public var key: String
        public var message: String
        public var description: String { "zoo.cfg line \(line): \(key): \(message)" }
    }

    static let ignored: Set<String> = [
        "standaloneEnabled", "metricsProvider.exportJvmInfo", "audit.enable", "globalOutstandingLimit",
        "clientPortListenBacklog", "syncEnabled", "electionAlg",
    ]

    public static func parse(_ text: String) throws(ParseError) -> Result {
        var configuration = ServerConfiguration()
        configuration.initialConfiguration = text
        var ignoredKeys: [String] = []
        var servers: [QuorumServer] = []
        /// Ensemble keys: reported as ignored when the file describes no ensemble.
        var quorumKeys: [String] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let equals = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw ParseError(line: lineNumber, key: String(line), message: "expected key=value")
            }
            let key = String(line[..<equals]).trimmingSpaces()
            let value = String(line[line.index(after: equals)...]).trimmingSpaces()
            func int(_ range: ClosedRange<Int> = 0...Int(Int32.max)) throws(ParseError) -> Int {
                guard let number = Int(value), range.contains(number) else {
                    throw ParseError(line: lineNumber, key: key, message: "\"\(value)\" is not an integer in \(range)")
                }
                return number
            }
            func bool() throws(ParseError) -> Bool {
                switch value.lowercased() {
                case "true", "yes": return true
                case "false", "no": return false
                default: throw ParseError(line: lineNumber, key: key, message: "\"\(value)\" is not true or false")
                }
            }
            switch key {
            case "tickTime": configuration.tickTime = try int(1...Int(Int32.max))
            case "dataDir": configuration.dataDirectory = value
            case "dataLogDir": configuration.dataLogDirectory = value
            case "clientPort": configuration.clientPort = try int(0...65535)
            case "clientPortAddress": configuration.clientPortAddress = value
            case "maxClientCnxns": configuration.maxClientConnections = try int()
            case "minSessionTimeout": configuration.minSessionTimeout = try int()
            case "maxSessionTimeout": configuration.maxSessionTimeout = try int()
            case "snapCount", "zookeeper.snapCount": configuration.snapCount = try int(2...Int(Int32.max))
            case "autopurge.snapRetainCount": configuration.snapRetainCount = max(3, try int())
            case "autopurge.purgeInterval": configuration.purgeIntervalHours = try int()
            case "4lw.commands.whitelist", "zookeeper.4lw.commands.whitelist":
                configuration.fourLetterWordWhitelist = Set(value.split(separator: ",").map { String($0).trimmingSpaces() })
            case "extendedTypesEnabled", "zookeeper.extendedTypesEnabled": configuration.extendedTypesEnabled = try bool()
            case "digest.enabled", "zookeeper.digest.enabled": configuration.digestEnabled = try bool()
            case "superDigest", "zookeeper.DigestAuthenticationProvider.superDigest":
                guard value.contains(":") else {
                    throw ParseError(line: lineNumber, key: key, message: "expected super:<base64 sha1>")
                }
                configuration.superDigest = value
            case "jute.maxbuffer": configuration.maxBuffer = try int(1024...Int(Int32.max))
            case "enforceQuota", "zookeeper.enforceQuota": configuration.enforceQuota = try bool()
            case "forceSync", "zookeeper.forceSync": configuration.forceSync = try bool()
            case "snapshotSizeFactor", "zookeeper.snapshotSizeFactor":
                guard let factor = Double(value), factor.isFinite else {
                    throw ParseError(line: lineNumber, key: key, message: "\"\(value)\" is not a number")
                }
                configuration.snapshotSizeFactor = factor > 1 ? 0.33 : factor
            case "preAllocSize", "zookeeper.preAllocSize": configuration.preAllocSizeKB = try int(0...(1 << 22))
            case "znode.container.checkIntervalMs":
                // A system property in Apache; accepted here too, so one file configures both.
                configuration.containerCheckInterval = try int(1...Int(Int32.max))
            case "readonlymode.enabled":
                // A system property in Apache; accepted here too, so one file configures both.
                configuration.readOnlyModeEnabled = try bool()
            case "localSessionsEnabled": configuration.localSessionsEnabled = try bool()
            case "admin.enableServer": configuration.admin.enabled = try bool()
            case "admin.serverAddress": configuration.admin.address = value
            case "admin.serverPort": configuration.admin.port = try int(0...65535)
            case "admin.idleTimeout": configuration.admin.idleTimeout = try int(1...Int(Int32.max))
            case "admin.commandURL":
                guard value.hasPrefix("/"), !value.split(separator: "/").isEmpty else {
                    throw ParseError(line: lineNumber, key: key, message: "expected a path such as /commands")
                }
                configuration.admin.commandURL = value
            case "metricsProvider.className":
                if value == MetricsProviderConfiguration.prometheusClassName {
                    configuration.metricsProvider.prometheusEnabled = true
                } else if MetricsProviderConfiguration.silentClassNames.contains(value) {
                    configuration.metricsProvider.prometheusEnabled = false
                } else {
                    throw ParseError(line: lineNumber, key: key, message: "\"\(value)\" is not a provider this server has (only \(MetricsProviderConfiguration.prometheusClassName))")
                }
            case "metricsProvider.httpPort": configuration.metricsProvider.port = try int(0...65535)
            case "metricsProvider.httpHost": configuration.metricsProvider.host = value
            case "initLimit":
                configuration.initLimit = try int(1...Int(Int32.max))
                quorumKeys.append(key)
            case "syncLimit":
                configuration.syncLimit = try int(1...Int(Int32.max))
                quorumKeys.append(key)
            case "quorumListenOnAllIPs":
                configuration.quorumListenOnAllIPs = try bool()
                quorumKeys.append(key)
            case "peerType":
                // Apache takes the type from the member's server.N line when they differ; so do we.
                guard value == "observer" || value == "participant" else {
                    throw ParseError(line: lineNumber, key: key, message: "\"\(value)\" is not observer or participant")
                }
                quorumKeys.append(key)
            case "reconfigEnabled":
                // Static ensembles only: a dynamic membership would need reconfig's whole protocol.
                guard try !bool() else { throw ParseError(line: lineNumber, key: key, message: "dynamic reconfiguration is not supported (static ensembles only)") }
                ignoredKeys.append(key)
            case "electionAlg":
                // Apache accepts only fast leader election (3); 1 and 2 were removed.
                guard value == "3" else { throw ParseError(line: lineNumber, key: key, message: "only 3 (fast leader election) is supported") }
                ignoredKeys.append(key)
            case _ where key.hasPrefix("server."):
                guard let id = Int64(key.dropFirst("server.".count)), id >= 0 else {
                    throw ParseError(line: lineNumber, key: key, message: "the server id must be a non-negative integer")
                }
                do {
                    servers.append(try QuorumServer(id: id, parsing: value))
                } catch {
                    throw ParseError(line: lineNumber, key: key, message: error.message)
                }
            default:
                if ignored.contains(key) {
                    ignoredKeys.append(key)
                } else {
                    throw ParseError(line: lineNumber, key: key, message: "unknown key")
                }
            }
        }
        if let minimum = configuration.minSessionTimeout, let maximum = configuration.maxSessionTimeout, minimum > maximum {
            throw ParseError(line: 0, key: "minSessionTimeout", message: "is greater than maxSessionTimeout")
        }
        var quorum: QuorumConfiguration?
        if !servers.isEmpty {
            do {
                quorum = try QuorumConfiguration(servers: servers)
            } catch {
                throw ParseError(line: 0, key: error.key, message: error.message)
            }
        }
        configuration.quorum = quorum
        if !configuration.isEnsemble { ignoredKeys += quorumKeys }
        return Result(configuration: configuration, ignoredKeys: ignoredKeys, quorum: quorum)
    }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" || first == "\r" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" { slice = slice.dropLast() }
        return String(slice)
    }
}
