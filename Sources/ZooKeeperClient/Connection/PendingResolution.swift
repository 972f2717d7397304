import Foundation
import Synchronization
import ZooKeeperPOSIX

/// A host name resolution running on a thread of its own, so a slow `getaddrinfo` never blocks the
/// I/O thread (its timers — presumed expiry above all — and `close()` stay on time). The thread wakes
/// the I/O thread's pipe when the answer is in.
final class PendingResolution: Sendable {
    typealias Resolver = @Sendable (_ host: String, _ port: Int) throws -> [SocketAddress]

    private let outcome = Mutex<Result<[SocketAddress], any Error>?>(nil)

    init(host: String, port: Int, resolver: @escaping Resolver, wakeup: WakeupPipe) {
        let thread = Thread { [self] in
            let result: Result<[SocketAddress], any Error>
            do { result = .success(try resolver(host, port)) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            wakeup.wake()
        }
        thread.name = "zookeeper-resolve"
        thread.start()
    }

    /// The answer, once the resolution finished.
    var result: Result<[SocketAddress], any Error>? { outcome.withLock { $0 } }

    /// The system resolver (numeric addresses never touch the network).
    static let system: Resolver = { host, port in try SocketAddress.resolve(host: host, port: port) }
}
