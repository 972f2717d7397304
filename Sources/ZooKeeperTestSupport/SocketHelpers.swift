import ZooKeeperPOSIX

public enum SocketHelpers {
    /// A port that was free on 127.0.0.1 a moment ago (listen on port 0, read it, close). Another
    /// process can take it before the caller binds it; callers must retry on "address in use".
    public static func freeLoopbackPort() throws(TestSupportError) -> Int {
        let socket: Socket
        do {
            socket = try Socket.listen(host: "127.0.0.1", port: 0, backlog: 1)
        } catch {
            throw TestSupportError("cannot pick a free port on 127.0.0.1: \(error)")
        }
        defer { socket.close() }
        guard let port = socket.localAddress?.port, port != 0 else {
            throw TestSupportError("the socket bound for a free port has no local port")
        }
        return port
    }
}
