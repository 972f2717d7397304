/// Where an ``HTTPServer`` listens and how much it tolerates.
public struct HTTPServerConfiguration: Sendable {
    /// The address to bind: loopback unless told otherwise.
    public var host: String
    /// The port; 0 picks a free one.
    public var port: Int
    public var limits: HTTPRequestParser.Limits
    /// Time to receive a whole request once its first byte arrived; then 408 and close (slow clients).
    public var requestTimeout: Duration
    /// Time a kept-alive connection may wait for its next request; then it is closed.
    public var idleTimeout: Duration
    /// Time a client may leave a response unread; then it is closed.
    public var writeTimeout: Duration
    /// Time a handler may take; then 503 and close.
    public var handlerTimeout: Duration
    /// Most open connections; more are answered 503 and closed.
    public var maxConnections: Int
    /// The thread's name (`name-http`).
    public var name: String
    /// Most bytes a streamed response may hold unread for one client; a client further behind is disconnected.
    public var maxStreamBuffer: Int

    public init(host: String = "127.0.0.1", port: Int = 0, limits: HTTPRequestParser.Limits = .init(),
                requestTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(30),
                writeTimeout: Duration = .seconds(10), handlerTimeout: Duration = .seconds(30),
                maxConnections: Int = 64, name: String = "shepherd", maxStreamBuffer: Int = 1 << 20) {
        self.host = host
        self.port = port
        self.limits = limits
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.handlerTimeout = handlerTimeout
        self.maxConnections = maxConnections
        self.name = name
        self.maxStreamBuffer = maxStreamBuffer
    }
}
