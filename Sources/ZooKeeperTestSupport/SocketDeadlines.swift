// Blocking reads with deadlines over ZooKeeperPOSIX's non-blocking Socket: what the fixtures that talk
// raw TCP (RawConnection, ScriptedConnection, sendFourLetterWord, MisbehavingServer) share.

import ZooKeeperPOSIX

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a bounded read got.
enum Received: Equatable {
    case bytes([UInt8])
    /// The peer closed (EOF) or reset the connection, or the socket failed.
    case closed
    case timedOut
}

extension Socket {
    /// Resolves `host` and connects to its first address, waiting at most `timeout`.
    static func connect(host: String, port: Int, timeout: Duration) throws -> Socket {
        guard let address = try SocketAddress.resolve(host: host, port: port).first else {
            throw TestSupportError("\(host) did not resolve")
        }
        return try Socket.connect(to: address, timeout: timeout)
    }

    /// Waits until some bytes arrive (at most `limit`), the peer closes, or `deadline` passes (nil: no deadline).
    func receive(upTo limit: Int, deadline: ContinuousClock.Instant?) -> Received {
        var buffer = [UInt8](repeating: 0, count: max(limit, 1))
        while true {
            switch try? read(into: &buffer) {
            case .bytes(let count)?: return .bytes(Array(buffer[0..<count]))
            case .wouldBlock?: break
            case .endOfFile?, nil: return .closed
            }
            var timeout: Duration?
            if let deadline {
                let left = deadline - .now
                guard left > .zero else { return .timedOut }
                timeout = left
            }
            var fds = [pollfd(fd: fd, events: Poller.readable, revents: 0)]
            guard (try? Poller.poll(&fds, timeout: timeout)) != nil else { return .closed }
        }
    }

    /// Exactly `count` bytes; on `.closed` or `.timedOut` what arrived before is dropped.
    func receive(exactly count: Int, deadline: ContinuousClock.Instant?) -> Received {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            switch receive(upTo: min(count - result.count, 65_536), deadline: deadline) {
            case .bytes(let bytes): result += bytes
            case let ended: return ended
            }
        }
        return .bytes(result)
    }

    /// One length-prefixed frame's body, read exactly (nothing past it is consumed). A length prefix
    /// that is negative or not below `limit` counts as `.closed`: the stream cannot be followed.
    func receiveFrame(deadline: ContinuousClock.Instant?, limit: Int = 16 << 20) -> Received {
        let header: [UInt8]
        switch receive(exactly: 4, deadline: deadline) {
        case .bytes(let bytes): header = bytes
        case let ended: return ended
        }
        let length = Int(Int32(bitPattern: header.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
        guard length >= 0 && length < limit else { return .closed }
        return receive(exactly: length, deadline: deadline)
    }

    /// Everything the peer sends until it closes; `closed` is false if `deadline` came first.
    func receiveUntilClosed(deadline: ContinuousClock.Instant?) -> (bytes: [UInt8], closed: Bool) {
        var bytes: [UInt8] = []
        while true {
            switch receive(upTo: 16_384, deadline: deadline) {
            case .bytes(let more): bytes += more
            case .closed: return (bytes, true)
            case .timedOut: return (bytes, false)
            }
        }
    }
}
