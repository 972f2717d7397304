/// The xids ZooKeeper reserves for requests that are not user requests (`ClientCnxn`).
public enum ReservedXid {
    /// A watch notification from the server.
    public static let notification: Int32 = -1
    /// A heartbeat and its reply.
    public static let ping: Int32 = -2
    /// An `AuthPacket` and its reply.
    public static let auth: Int32 = -4
    /// `SetWatches` / `SetWatches2`, sent after a reconnect.
    public static let setWatches: Int32 = -8
}
