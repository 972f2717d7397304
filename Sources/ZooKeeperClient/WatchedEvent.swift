public import ZooKeeperProtocol

/// A watch notification, with the chroot already removed from `path`.
public struct WatchedEvent: Hashable, Sendable, CustomStringConvertible {
    public var type: EventType
    public var state: KeeperState
    /// The node the event is about, relative to the client's chroot.
    public var path: String

    public init(type: EventType, state: KeeperState, path: String) {
        self.type = type
        self.state = state
        self.path = path
    }

    /// zkCli's rendering: `WatchedEvent state:SyncConnected type:NodeDataChanged path:/a`.
    public var description: String { "WatchedEvent state:\(state) type:\(type) path:\(path)" }
}
