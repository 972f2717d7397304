public import ZooKeeperProtocol

/// An error from a ZooKeeper operation: the ZooKeeper result code, the path involved and a sentence.
///
/// `code` is open (``ZooKeeperErrorCode``): a code from a newer server is kept, never a decode failure.
/// Operations throw this or `CancellationError`.
public struct ZooKeeperError: Error, Sendable, CustomStringConvertible {
    /// ZooKeeper's result code (`KeeperException.Code`), or one of the client-side codes.
    public typealias Code = ZooKeeperErrorCode

    public var code: Code
    /// The node involved, when there is one.
    public var path: String?
    /// A human-readable detail.
    public var message: String?
    /// A lower-level cause (socket or decoding error), when there is one.
    public var underlying: (any Error & Sendable)?
    /// For a failed ``ZooKeeperClient/multi(_:)``: every operation's result.
    public var operationResults: [OperationResult]?

    public init(_ code: Code, path: String? = nil, message: String? = nil, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.path = path
        self.message = message
        self.underlying = underlying
    }

    /// Like the Java client's `KeeperException` message: `KeeperErrorCode = noNode for /a`, plus detail.
    public var description: String {
        var text = "KeeperErrorCode = \(code)"
        if let path { text += " for \(path)" }
        if let message { text += ": \(message)" }
        if let underlying { text += " (\(underlying))" }
        return text
    }

    /// Whether the operation may succeed if retried on the same session (Curator's rule:
    /// connection loss, operation timeout, session moved). The outcome of the failed attempt is unknown.
    public var isRetryable: Bool {
        code == .connectionLoss || code == .operationTimeout || code == .sessionMoved
            || code == .requestTimeout || code == .throttledOp
    }

    /// Whether the session is gone for good: expired, authentication failed, or the client closed.
    public var isSessionTerminal: Bool {
        code == .sessionExpired || code == .authFailed || code == .clientClosed
            || code == .serversBehindSession
    }
}

extension ZooKeeperError: Equatable {
    /// Errors compare by code and path; the message and underlying cause are detail.
    public static func == (lhs: ZooKeeperError, rhs: ZooKeeperError) -> Bool {
        lhs.code == rhs.code && lhs.path == rhs.path
    }
}
