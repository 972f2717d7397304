/// A watch event's type (`Watcher.Event.EventType`). Open: unknown values are kept.
public struct EventType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let none = EventType(rawValue: -1)
    public static let nodeCreated = EventType(rawValue: 1)
    public static let nodeDeleted = EventType(rawValue: 2)
    public static let nodeDataChanged = EventType(rawValue: 3)
    public static let nodeChildrenChanged = EventType(rawValue: 4)
    public static let dataWatchRemoved = EventType(rawValue: 5)
    public static let childWatchRemoved = EventType(rawValue: 6)
    public static let persistentWatchRemoved = EventType(rawValue: 7)

    /// Java's enum names, as zkCli prints them.
    public var description: String {
        switch rawValue {
        case -1: return "None"
        case 1: return "NodeCreated"
        case 2: return "NodeDeleted"
        case 3: return "NodeDataChanged"
        case 4: return "NodeChildrenChanged"
        case 5: return "DataWatchRemoved"
        case 6: return "ChildWatchRemoved"
        case 7: return "PersistentWatchRemoved"
        default: return "Unknown(\(rawValue))"
        }
    }
}

/// The client's state as carried in a watch event (`Watcher.Event.KeeperState`).
public struct KeeperState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let unknown = KeeperState(rawValue: -1)
    public static let disconnected = KeeperState(rawValue: 0)
    public static let noSyncConnected = KeeperState(rawValue: 1)
    public static let syncConnected = KeeperState(rawValue: 3)
    public static let authFailed = KeeperState(rawValue: 4)
    public static let connectedReadOnly = KeeperState(rawValue: 5)
    public static let saslAuthenticated = KeeperState(rawValue: 6)
    public static let expired = KeeperState(rawValue: -112)
    public static let closed = KeeperState(rawValue: 7)

    public var description: String {
        switch rawValue {
        case -1: return "Unknown"
        case 0: return "Disconnected"
        case 1: return "NoSyncConnected"
        case 3: return "SyncConnected"
        case 4: return "AuthFailed"
        case 5: return "ConnectedReadOnly"
        case 6: return "SaslAuthenticated"
        case -112: return "Expired"
        case 7: return "Closed"
        default: return "Unknown(\(rawValue))"
        }
    }
}

/// Which watches `checkWatches` / `removeWatches` act on (`Watcher.WatcherType`).
public enum WatcherType: Int32, Sendable, Hashable, CaseIterable {
    case children = 1
    case data = 2
    case any = 3
    /// 3.9+ only (ZOOKEEPER-4472).
    case persistent = 4
    /// 3.9+ only (ZOOKEEPER-4472).
    case persistentRecursive = 5
}

/// The mode of an `addWatch` request (`AddWatchMode`).
public enum AddWatchMode: Int32, Sendable, Hashable, CaseIterable {
    /// Fires every event type for the one path, and stays armed.
    case persistent = 0
    /// Fires created/deleted/dataChanged for the whole subtree (never childrenChanged), and stays armed.
    case persistentRecursive = 1
}
