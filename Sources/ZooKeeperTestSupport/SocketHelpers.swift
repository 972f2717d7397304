import Foundation
import ZooKeeperPOSIX

public enum SocketHelpers {
    /// A port that was free on 127.0.0.1 a moment ago, for a server the caller starts next (below the
    /// ephemeral range and below `docker/local-ensemble.sh`'s ports: see `FreePort.loopback`). Another process
    /// can still take the port; callers that can should retry on "address in use".
    public static func freeLoopbackPort() throws(TestSupportError) -> Int {
        do {
            return try FreePort.loopback()
        } catch {
            throw TestSupportError("cannot pick a free port on 127.0.0.1: \(error)")
        }
    }
}
