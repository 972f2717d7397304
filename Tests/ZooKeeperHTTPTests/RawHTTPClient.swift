import Foundation
import ZooKeeperHTTP
import ZooKeeperPOSIX

#if canImport(Glibc)
import Glibc
#endif

/// A deliberately dumb client: raw bytes in, raw bytes out, every wait bounded. Bytes after a response
/// (the next pipelined one) stay for the next ``response(timeout:)``.
final class RawHTTPClient {
    let socket: Socket
    private var pending: [UInt8] = []

    init(port: Int) throws {
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: port)[0]
        socket = try Socket.connect(to: address, timeout: .seconds(5))
    }

    func send(_ text: String) throws { try socket.writeAll(Array(text.utf8), timeout: .seconds(5)) }
    func send(_ bytes: [UInt8]) throws { try socket.writeAll(bytes, timeout: .seconds(5)) }

    /// Reads one response (head plus `Content-Length` body); nil if the connection closes first or `timeout` passes.
    func response(timeout: Duration = .seconds(5)) throws -> (status: Int, head: String, body: String)? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        while true {
            if let parsed = Self.parse(pending) {
                pending.removeFirst(parsed.consumed)
                return (parsed.status, parsed.head, parsed.body)
            }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero, try Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: left) else { return nil }
            switch try socket.read(into: &buffer) {
            case let .bytes(count): pending += buffer[0..<count]
            case .endOfFile: return nil
            case .wouldBlock: continue
            }
        }
    }

    /// Everything up to and including the first `marker` (consumed); nil if it does not come within `timeout`.
    func read(through marker: String, timeout: Duration = .seconds(5)) throws -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        let needle = Array(marker.utf8)
        while true {
            if let end = Self.end(of: needle, in: pending) {
                let text = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end)
                return text
            }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero, try Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: left) else { return nil }
            switch try socket.read(into: &buffer) {
            case let .bytes(count): pending += buffer[0..<count]
            case .endOfFile: return nil
            case .wouldBlock: continue
            }
        }
    }

    private static func end(of needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        for start in 0...(bytes.count - needle.count) where bytes[start..<start + needle.count].elementsEqual(needle) {
            return start + needle.count
        }
        return nil
    }

    /// Everything until the server closes (nil if it does not within `timeout`).
    func readToEnd(timeout: Duration = .seconds(5)) throws -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero, try Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: left) else { return nil }
            switch try socket.read(into: &buffer) {
            case let .bytes(count): pending += buffer[0..<count]
            case .endOfFile: return String(decoding: pending, as: UTF8.self)
            case .wouldBlock: continue
            }
        }
    }

    /// True when the server closes the connection within `timeout`.
    func closes(within timeout: Duration = .seconds(5)) throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero, try Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: left) else { return false }
            switch try socket.read(into: &buffer) {
            case .endOfFile: return true
            case .bytes, .wouldBlock: continue
            }
        }
    }

    func close() { socket.close() }

    private static func parse(_ bytes: [UInt8]) -> (status: Int, head: String, body: String, consumed: Int)? {
        let text = String(decoding: bytes, as: UTF8.self)  // the tests' answers are ASCII
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let head = String(text[..<end.lowerBound])
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        let lengthLine = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
        let length = lengthLine.flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: " ")) } ?? 0
        let bodyBytes = Array(text[end.upperBound...].utf8)
        guard bodyBytes.count >= length else { return nil }
        let consumed = text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound) + length
        return (status, head, String(decoding: bodyBytes.prefix(length), as: UTF8.self), consumed)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var slice = self
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
