import ZooKeeperPOSIX

/// One HTTP/1.1 `GET` with `Connection: close` to `127.0.0.1:port`, reading until the server closes:
/// the status code, the head's lines and the body. `timeout` bounds the whole exchange.
public func httpGet(port: Int, path: String, host: String = "127.0.0.1",
                    timeout: Duration = .seconds(10)) throws -> (status: Int, headers: [String], body: String) {
    let deadline = ContinuousClock.now + timeout
    let socket = try Socket.connect(host: host, port: port, timeout: timeout)
    defer { socket.close() }
    let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n\r\n"
    try socket.writeAll(Array(request.utf8), timeout: deadline - .now)
    let (reply, closed) = socket.receiveUntilClosed(deadline: deadline)
    guard closed else { throw TestSupportError("GET \(path): no complete answer within \(timeout)") }
    let text = String(decoding: reply, as: UTF8.self)
    let parts = text.split(separator: "\r\n\r\n", maxSplits: 1, omittingEmptySubsequences: false)
    let head = parts[0].split(separator: "\r\n").map(String.init)
    guard let statusLine = head.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
        throw TestSupportError("GET \(path): not an HTTP answer: \(text.prefix(200))")
    }
    let body = parts.count > 1 ? String(parts[1]) : ""
    let chunked = head.contains { $0.lowercased().hasPrefix("transfer-encoding:") && $0.lowercased().contains("chunked") }
    return (status, Array(head.dropFirst()), chunked ? dechunk(body) : body)
}

/// The payload of a chunked body (`<hex size>\r\n<data>\r\n…0\r\n\r\n`).
private func dechunk(_ body: String) -> String {
    var bytes = Array(body.utf8)[...]
    var result: [UInt8] = []
    while let lineEnd = bytes.firstIndex(of: 0x0A) {
        let sizeText = String(decoding: bytes[..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
        guard let size = Int(sizeText.filter { !$0.isWhitespace }, radix: 16), size > 0 else { break }
        let start = lineEnd + 1
        guard bytes.endIndex - start >= size else { break }
        result += bytes[start..<start + size]
        bytes = bytes[(start + size)...].drop { $0 == 0x0D || $0 == 0x0A }
    }
    return String(decoding: result, as: UTF8.self)
}
