import Foundation
import Synchronization
import ZooKeeperPOSIX

/// Asks one server whether it serves reads and writes (`isro` → `rw`), on a thread of its own so the
/// I/O thread keeps serving the read-only connection meanwhile; wakes the I/O thread when done. The Java
/// client's `pingRwServer`: connect, send `isro`, read the answer, all within about a second.
final class ReadWriteProbe: Sendable {
    let server: ServerAddress
    private let outcome = Mutex<Bool?>(nil)

    init(server: ServerAddress, resolver: @escaping PendingResolution.Resolver, wakeup: WakeupPipe) {
        self.server = server
        let thread = Thread { [self] in
            let found = Self.isReadWrite(server, resolver: resolver)
            outcome.withLock { $0 = found }
            wakeup.wake()
        }
        thread.name = "zookeeper-rw-probe"
        thread.start()
    }

    /// `true`: a read-write server; `false`: not (or no answer); nil: still asking.
    var found: Bool? { outcome.withLock { $0 } }

    private static func isReadWrite(_ server: ServerAddress, resolver: PendingResolution.Resolver) -> Bool {
        guard let address = try? resolver(server.host, server.port).first,
              let socket = try? Socket.connect(to: address, timeout: .seconds(1)) else { return false }
        defer { socket.close() }
        guard (try? socket.writeAll(Array("isro".utf8), timeout: .seconds(1))) != nil else { return false }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16)
        let deadline = ContinuousClock.now + .seconds(1)
        while answer.count < 2, ContinuousClock.now < deadline {
            guard (try? Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: deadline - .now)) == true else { break }
            switch try? socket.read(into: &buffer) {
            case let .bytes(count)?: answer += buffer[0..<count]
            case .wouldBlock?: continue
            default: return answer == Array("rw".utf8)
            }
        }
        return answer.starts(with: Array("rw".utf8))
    }
}
