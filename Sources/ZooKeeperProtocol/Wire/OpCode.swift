/// A request type (`ZooDefs.OpCode`). Open: an unknown value is kept, never a decode failure.
public struct OpCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let notification = OpCode(rawValue: 0)
    public static let create = OpCode(rawValue: 1)
    public static let delete = OpCode(rawValue: 2)
    public static let exists = OpCode(rawValue: 3)
    public static let getData = OpCode(rawValue: 4)
    public static let setData = OpCode(rawValue: 5)
    public static let getACL = OpCode(rawValue: 6)
    public static let setACL = OpCode(rawValue: 7)
    public static let getChildren = OpCode(rawValue: 8)
    public static let sync = OpCode(rawValue: 9)
    public static let ping = OpCode(rawValue: 11)
    public static let getChildren2 = OpCode(rawValue: 12)
    public static let check = OpCode(rawValue: 13)
    public static let multi = OpCode(rawValue: 14)
    public static let create2 = OpCode(rawValue: 15)
    public static let reconfig = OpCode(rawValue: 16)
    public static let checkWatches = OpCode(rawValue: 17)
    public static let removeWatches = OpCode(rawValue: 18)
    public static let createContainer = OpCode(rawValue: 19)
    public static let deleteContainer = OpCode(rawValue: 20)
    public static let createTTL = OpCode(rawValue: 21)
    public static let multiRead = OpCode(rawValue: 22)
    public static let auth = OpCode(rawValue: 100)
    public static let setWatches = OpCode(rawValue: 101)
    public static let sasl = OpCode(rawValue: 102)
    public static let getEphemerals = OpCode(rawValue: 103)
    public static let getAllChildrenNumber = OpCode(rawValue: 104)
    public static let setWatches2 = OpCode(rawValue: 105)
    public static let addWatch = OpCode(rawValue: 106)
    public static let whoAmI = OpCode(rawValue: 107)
    public static let createSession = OpCode(rawValue: -10)
    public static let closeSession = OpCode(rawValue: -11)
    public static let error = OpCode(rawValue: -1)

    private static let names: [Int32: String] = [
        0: "notification", 1: "create", 2: "delete", 3: "exists", 4: "getData", 5: "setData",
        6: "getACL", 7: "setACL", 8: "getChildren", 9: "sync", 11: "ping", 12: "getChildren2",
        13: "check", 14: "multi", 15: "create2", 16: "reconfig", 17: "checkWatches",
        18: "removeWatches", 19: "createContainer", 20: "deleteContainer", 21: "createTTL",
        22: "multiRead", 100: "auth", 101: "setWatches", 102: "sasl", 103: "getEphemerals",
        104: "getAllChildrenNumber", 105: "setWatches2", 106: "addWatch", 107: "whoAmI",
        -10: "createSession", -11: "closeSession", -1: "error",
    ]

    /// Whether ZooKeeper knows this opcode.
    public var isKnown: Bool { Self.names[rawValue] != nil }

    public var description: String { Self.names[rawValue] ?? "unknown(\(rawValue))" }
}
