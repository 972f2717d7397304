/// A ZooKeeper result code (`KeeperException.Code`).
///
/// Open on purpose: a code from a newer server is kept as its raw value instead of failing to decode.
/// Codes at or below -1000 are this toolkit's own client-side codes; ZooKeeper never sends them.
public struct ZooKeeperErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let ok = Self(rawValue: 0)
    public static let systemError = Self(rawValue: -1)
    public static let runtimeInconsistency = Self(rawValue: -2)
    public static let dataInconsistency = Self(rawValue: -3)
    public static let connectionLoss = Self(rawValue: -4)
    public static let marshallingError = Self(rawValue: -5)
    public static let unimplemented = Self(rawValue: -6)
    public static let operationTimeout = Self(rawValue: -7)
    public static let badArguments = Self(rawValue: -8)
    public static let unknownSession = Self(rawValue: -12)
    public static let newConfigNoQuorum = Self(rawValue: -13)
    public static let reconfigInProgress = Self(rawValue: -14)
    public static let apiError = Self(rawValue: -100)
    public static let noNode = Self(rawValue: -101)
    public static let noAuth = Self(rawValue: -102)
    public static let badVersion = Self(rawValue: -103)
    public static let noChildrenForEphemerals = Self(rawValue: -108)
    public static let nodeExists = Self(rawValue: -110)
    public static let notEmpty = Self(rawValue: -111)
    public static let sessionExpired = Self(rawValue: -112)
    public static let invalidCallback = Self(rawValue: -113)
    public static let invalidACL = Self(rawValue: -114)
    public static let authFailed = Self(rawValue: -115)
    public static let sessionMoved = Self(rawValue: -118)
    public static let notReadOnly = Self(rawValue: -119)
    public static let ephemeralOnLocalSession = Self(rawValue: -120)
    public static let noWatcher = Self(rawValue: -121)
    public static let requestTimeout = Self(rawValue: -122)
    public static let reconfigDisabled = Self(rawValue: -123)
    public static let sessionClosedRequireSASLAuth = Self(rawValue: -124)
    public static let quotaExceeded = Self(rawValue: -125)
    public static let throttledOp = Self(rawValue: -127)

    // Client-side codes (never on the wire).
    /// The client was closed while the request was outstanding.
    public static let clientClosed = Self(rawValue: -1000)
    /// A reply or frame broke the protocol (bad xid order, undecodable body, oversized frame).
    public static let protocolViolation = Self(rawValue: -1001)
    /// Every server refused the session because each has seen fewer transactions than this client.
    public static let serversBehindSession = Self(rawValue: -1002)
    /// An argument was rejected before anything was sent (e.g. an invalid path).
    public static let invalidArgument = Self(rawValue: -1003)

    private static let names: [Int32: String] = [
        0: "ok", -1: "systemError", -2: "runtimeInconsistency", -3: "dataInconsistency",
        -4: "connectionLoss", -5: "marshallingError", -6: "unimplemented", -7: "operationTimeout",
        -8: "badArguments", -12: "unknownSession", -13: "newConfigNoQuorum", -14: "reconfigInProgress",
        -100: "apiError", -101: "noNode", -102: "noAuth", -103: "badVersion",
        -108: "noChildrenForEphemerals", -110: "nodeExists", -111: "notEmpty", -112: "sessionExpired",
        -113: "invalidCallback", -114: "invalidACL", -115: "authFailed", -118: "sessionMoved",
        -119: "notReadOnly", -120: "ephemeralOnLocalSession", -121: "noWatcher", -122: "requestTimeout",
        -123: "reconfigDisabled", -124: "sessionClosedRequireSASLAuth", -125: "quotaExceeded",
        -127: "throttledOp", -1000: "clientClosed", -1001: "protocolViolation",
        -1002: "serversBehindSession", -1003: "invalidArgument",
    ]

    /// Whether this is a code this toolkit knows by name.
    public var isKnown: Bool { Self.names[rawValue] != nil }

    public var description: String { Self.names[rawValue] ?? "unknownError(\(rawValue))" }
}
