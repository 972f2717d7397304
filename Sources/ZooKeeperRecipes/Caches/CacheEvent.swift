public import Foundation
public import ZooKeeperClient

/// One cached node: its path, data and `Stat` (Curator's `ChildData`).
public struct ChildData: Hashable, Sendable {
    public var path: ZNodePath
    public var data: [UInt8]
    public var stat: Stat

    public init(path: ZNodePath, data: [UInt8], stat: Stat) {
        self.path = path
        self.data = data
        self.stat = stat
    }

    /// The data decoded as JSON into `T` (a typed config value).
    public func decode<T: Decodable>(_ type: T.Type = T.self, using decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(T.self, from: Data(data))
    }
}

/// What a ``TreeCache`` or ``NodeCache`` reports, in order.
public enum CacheEvent: Hashable, Sendable {
    /// The first complete snapshot (every subscriber gets one first).
    case initialized([ZNodePath: ChildData])
    /// A node appeared.
    case created(ChildData)
    /// A node's data (or stat) changed.
    case changed(ChildData)
    /// A node disappeared.
    case deleted(ZNodePath)
    /// A reconnect's re-read finished: the events before this one brought the cache up to date.
    case resynced
}
