/// A ZooKeeper four-letter word (`ruok`, `srvr`, `mntr`, …) over a plain socket: connect, send the word, read
/// until the server closes. Blocking: call it off cooperative threads. Shared by the inspector's ensemble
/// probe and the test support.
package enum FourLetterWord {
    /// The whole reply; `timeout` bounds connect, write and read together. Throws `.timedOut` when the
    /// server has not closed by then, and when the reply exceeds `maxBytes`.
    package static func ask(_ word: String, host: String, port: Int, timeout: Duration,
                            maxBytes: Int = 1 << 20) throws(SocketError) -> String {
        let deadline = ContinuousClock.now + timeout
        guard let address = try SocketAddress.resolve(host: host, port: port).first else {
            throw .resolutionFailed(host: host, message: "no address")
        }
        let socket = try Socket.connect(to: address, timeout: timeout)
        defer { socket.close() }
        try socket.writeAll(Array(word.utf8), timeout: ContinuousClock.now.duration(to: deadline))
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero, try Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: left) else {
                throw .timedOut(operation: "\(word) (\(reply.count) bytes read)")
            }
            switch try socket.read(into: &buffer) {
            case let .bytes(count):
                reply += buffer[0..<count]
                guard reply.count <= maxBytes else { throw .timedOut(operation: "\(word): reply over \(maxBytes) bytes") }
            case .endOfFile:
                return String(decoding: reply, as: UTF8.self)
            case .wouldBlock:
                continue
            }
        }
    }
}
