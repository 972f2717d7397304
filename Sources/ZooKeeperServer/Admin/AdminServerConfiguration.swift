/// The HTTP admin server (Apache's `admin.*` keys): `GET <commandURL>` lists the commands,
/// `GET <commandURL>/<name>` answers one in JSON with Apache's field names.
public struct AdminServerConfiguration: Sendable, Hashable {
    /// `admin.enableServer`. Off by default (Apache's is on; ours stays closed unless asked for).
    public var enabled = false
    /// `admin.serverAddress`: loopback unless configured.
    public var address = "127.0.0.1"
    /// `admin.serverPort` (Apache's default 8080); 0 picks a free port.
    public var port = 8080
    /// `admin.commandURL`.
    public var commandURL = "/commands"
    /// `admin.idleTimeout` in milliseconds: how long a kept-alive connection may stay silent.
    public var idleTimeout = 30_000

    public init() {}
}

/// The Prometheus endpoint (Apache's `metricsProvider.*` keys with the Prometheus provider's class):
/// `GET /metrics` in the text exposition format, with the metric names Apache's provider exports.
public struct MetricsProviderConfiguration: Sendable, Hashable {
    /// The class that turns the endpoint on (`metricsProvider.className`).
    public static let prometheusClassName = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
    /// Classes accepted without an endpoint (Apache's built-in providers).
    static let silentClassNames: Set<String> = [
        "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider", "org.apache.zookeeper.metrics.impl.NullMetricsProvider",
    ]

    /// Serve `/metrics` (`metricsProvider.className` is ``prometheusClassName``).
    public var prometheusEnabled = false
    /// `metricsProvider.httpHost`: loopback unless configured (Apache's default is 0.0.0.0).
    public var host = "127.0.0.1"
    /// `metricsProvider.httpPort` (default 7000); 0 picks a free port.
    public var port = 7000

    public init() {}
}
