public import ZooKeeperClient
public import ZooKeeperHTTP

/// How a ``ZooKeeperInspector`` serves: where it listens, which members it probes, whether it writes.
public struct InspectorConfiguration: Sendable {
    /// The address to listen on: loopback unless told otherwise.
    public var host: String
    /// The port; 0 picks a free one.
    public var port: Int
    /// The ensemble members the ensemble panel asks with `srvr`/`mntr` (usually the connect string's).
    public var members: [ServerAddress]
    /// Whether the page may create, set and delete nodes (otherwise those requests get 403).
    public var allowWrites: Bool
    /// Most nodes one tree read takes (recipe recognition and search then see part of the tree).
    public var maxNodes: Int
    /// How often the ensemble panel is refreshed.
    public var ensembleInterval: Duration
    /// Tests only: the page posts what it rendered (when opened with `?report=1`) and this receives it.
    public var renderReports: (@Sendable (JSONValue) -> Void)?

    public init(host: String = "127.0.0.1", port: Int = 8080, members: [ServerAddress] = [], allowWrites: Bool = false,
                maxNodes: Int = 20_000, ensembleInterval: Duration = .seconds(2),
                renderReports: (@Sendable (JSONValue) -> Void)? = nil) {
        self.host = host
        self.port = port
        self.members = members
        self.allowWrites = allowWrites
        self.maxNodes = maxNodes
        self.ensembleInterval = ensembleInterval
        self.renderReports = renderReports
    }
}
