import ZooKeeperProtocol

/// Settings of a ZooKeeper-compatible server, with Apache ZooKeeper 3.8's names and defaults.
public struct ServerConfiguration: Sendable {
    /// The basic time unit in milliseconds; session timeouts default to 2–20 ticks.
    public var tickTime: Int = 2000
    /// Where snapshots go (`dataDir`). `nil` keeps everything in memory (tests only: nothing is durable).
    public var dataDirectory: String?
    /// Where the transaction log goes (`dataLogDir`); defaults to ``dataDirectory``.
    public var dataLogDirectory: String?
    /// The client port; 0 picks a free one.
    public var clientPort: Int = 2181
    /// The address to listen on (`clientPortAddress`).
    public var clientPortAddress: String = "127.0.0.1"
    /// Most concurrent connections from one IP address; 0 = unlimited (`maxClientCnxns`, default 60).
    public var maxClientConnections: Int = 60
    /// Session timeout bounds in milliseconds; `nil` = 2 × / 20 × tickTime.
    public var minSessionTimeout: Int?
    public var maxSessionTimeout: Int?
    /// Transactions between snapshots (`snapCount`, default 100 000; a snapshot is taken after a random
    /// count between half and all of it, as Apache does).
    public var snapCount: Int = 100_000
    /// Snapshots (and the logs they need) kept by autopurge (`autopurge.snapRetainCount`, at least 3).
    public var snapRetainCount: Int = 3
    /// Hours between purges (`autopurge.purgeInterval`); 0 turns autopurge off.
    public var purgeIntervalHours: Int = 0
    /// Four-letter words answered (`4lw.commands.whitelist`); `["*"]` for all. Apache's default: `srvr`.
    public var fourLetterWordWhitelist: Set<String> = ["srvr"]
    /// Allow TTL nodes (`extendedTypesEnabled`).
    public var extendedTypesEnabled = false
    /// Keep the tree digest, send it with proposals and compare the leader's (`zookeeper.digest.enabled`,
    /// a Java system property in Apache, default true; zoo.cfg's `digest.enabled` sets it there too).
    public var digestEnabled = true
    /// `super:<base64 sha1>` digest of the super user (`zookeeper.DigestAuthenticationProvider.superDigest`).
    public var superDigest: String?
    /// The largest request accepted (`jute.maxbuffer`, default 0xfffff bytes).
    public var maxBuffer: Int = JuteReader.defaultMaxLength
    /// Enforce hard quotas with QuotaExceeded (`zookeeper.enforceQuota`).
    public var enforceQuota = false
    /// fsync the transaction log before acknowledging writes (`forceSync`). Turning it off loses durability.
    public var forceSync = true
    /// `snapshotSizeFactor` (`zookeeper.snapshotSizeFactor`, Apache's default 0.33): a learner older than the
    /// leader's in-memory committed log may be sent the txns from the leader's log files when they are
    /// smaller than this fraction of the newest snapshot; negative never does. Values above 1 fall back to
    /// 0.33, as Apache's `ZKDatabase`.
    public var snapshotSizeFactor = 0.33
    /// Committed proposals the leader keeps in memory for DIFFs (`zookeeper.commitLogCount`, 500, which is
    /// also Apache's minimum; not read from zoo.cfg). Tests lower it to reach the txn log with few writes.
    package var committedLogCount = 500
    /// How far ahead log files are preallocated, in KiB (`preAllocSize`, Apache's default 64 MiB).
    public var preAllocSizeKB = 65_536

    /// Milliseconds between checks for empty containers and expired TTL nodes (Apache's
    /// `znode.container.checkIntervalMs`, default one minute).
    public var containerCheckInterval: Int = 60_000
    /// The ensemble (`server.N` lines); nil or a single voter runs standalone, as Apache with `standaloneEnabled`.
    public var quorum: QuorumConfiguration?
    /// This member's id (`myid` in dataDir); required with ``quorum``.
    public var serverID: Int64?
    /// The configuration file's text as read (the admin server's `initial_configuration`, as Apache's
    /// `getInitialConfig()`); nil for a server configured in code.
    public var initialConfiguration: String?
    /// Ticks a follower may take to connect to and sync with the leader (`initLimit`).
    public var initLimit: Int = 10
    /// Ticks a follower may lag (or stay silent) before it is dropped (`syncLimit`).
    public var syncLimit: Int = 5
    /// Listen for quorum and election connections on all addresses (`quorumListenOnAllIPs`).
    public var quorumListenOnAllIPs = false
    /// A member that has no quorum for `max(2 s, tickTime)` serves read-only clients from its last
    /// committed data (`readonlymode.enabled`, a Java system property in Apache).
    public var readOnlyModeEnabled = false
    /// Whether a read-only member admits new sessions (local to it), as Apache's `localSessionsEnabled`; off,
    /// as Apache's default, a read-only member serves only sessions it already had. (In read-write mode our
    /// sessions stay global either way: Apache upgrades a local session as soon as it creates an ephemeral.)
    public var localSessionsEnabled = false

    /// The HTTP admin server (`admin.*`); off by default.
    public var admin = AdminServerConfiguration()
    /// The Prometheus endpoint (`metricsProvider.*`); off by default.
    public var metricsProvider = MetricsProviderConfiguration()

    public init() {}

    /// Whether this configuration runs an ensemble member: more than one voting server.
    public var isEnsemble: Bool { (quorum?.votingMembers.count ?? 0) > 1 }

    /// The effective minimum session timeout in milliseconds.
    public var effectiveMinSessionTimeout: Int { minSessionTimeout ?? tickTime * 2 }
    /// The effective maximum session timeout in milliseconds.
    public var effectiveMaxSessionTimeout: Int { maxSessionTimeout ?? tickTime * 20 }
}
