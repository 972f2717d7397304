/// Carries out one ``FuzzCase`` over a raw TCP connection and judges the server's answer. Blocking,
/// every read bounded by ``timeout``: a server that neither answers nor closes in time has hung.
public struct FuzzCaseRunner: Sendable {
    public let host: String
    public let port: Int
    /// How long any one awaited answer (a frame, or the server's close) may take.
    public let timeout: Duration

    public init(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(10)) {
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    /// Runs `fuzzCase`; nil if the server did what it must, else what went wrong.
    public func run(_ fuzzCase: FuzzCase) -> String? {
        let connection: RawConnection
        do {
            connection = try RawConnection(host: host, port: port, timeout: timeout)
        } catch {
            return "cannot connect: \(error)"
        }
        defer { connection.reset() }
        for chunk in fuzzCase.chunks {
            // The server may close before everything is written (it refused an earlier frame): what
            // it sent back is judged below.
            do { try connection.write(chunk, timeout: timeout) } catch { break }
        }
        switch fuzzCase.expectation {
        case .abandon:
            return nil
        case .closes:
            let received: [UInt8]
            do { received = try connection.readToEnd(within: timeout) } catch {
                return "the server did not close the connection within \(timeout) after a frame it must refuse (hang)"
            }
            guard fuzzCase.bytes.starts(with: FuzzCaseGenerator.handshake) else { return nil }
            return Self.checkFraming(received)
        case .closesAfterEOF:
            connection.shutdownWrite()
            let received: [UInt8]
            do { received = try connection.readToEnd(within: timeout) } catch {
                return "the server did not close the connection within \(timeout) of our EOF (hang)"
            }
            guard fuzzCase.bytes.starts(with: FuzzCaseGenerator.handshake) else { return nil }
            return Self.checkFraming(received)
        case let .frames(expected, thenClosed):
            for frame in expected {
                if let problem = expect(frame, on: connection) { return problem }
            }
            guard thenClosed else { return nil }
            do {
                _ = try connection.readToEnd(within: timeout)
            } catch {
                return "the server did not close the connection within \(timeout) after its last answer"
            }
            return nil
        }
    }

    /// Reads until `expected` arrives (skipping notifications while a reply is awaited).
    private func expect(_ expected: FuzzExpectedFrame, on connection: RawConnection) -> String? {
        while true {
            let frame: [UInt8]
            switch (try? connection.readFrame(within: timeout)) ?? .closed {
            case let .frame(bytes): frame = bytes
            case .closed: return "the server closed the connection before sending \(expected)"
            case .timedOut: return "no answer within \(timeout) while waiting for \(expected) (hang)"
            }
            switch expected {
            case .connectResponse, .connectRefused:
                guard frame.count >= 36 else { return "a ConnectResponse of \(frame.count) bytes" }
                let timeoutField = Self.load(frame, at: 4) as Int32
                let session = Self.load(frame, at: 8) as Int64
                if expected == .connectResponse && (timeoutField <= 0 || session == 0) {
                    return "the handshake was refused (timeout \(timeoutField), session \(session))"
                }
                if expected == .connectRefused && (timeoutField != 0 || session != 0) {
                    return "an unknown session was accepted (timeout \(timeoutField), session \(session))"
                }
                return nil
            case let .reply(xid, errors, request):
                guard let got = RawConnection.replyXid(frame), let err = RawConnection.replyError(frame) else {
                    return "a reply of \(frame.count) bytes (shorter than a ReplyHeader)"
                }
                if got == -1 && xid != -1 { continue }  // a watch notification
                if got != xid { return "expected the reply to xid \(xid) (\(request)), got xid \(got) (err \(err))" }
                if !errors.contains(err) { return "xid \(xid) (\(request)): err \(err) is not among the allowed \(Self.describe(errors))" }
                return nil
            }
        }
    }

    /// Error sets, short: "any failure" instead of a hundred codes.
    static func describe(_ errors: Set<Int32>) -> String {
        if errors == FuzzErr.anyFailure { return "(any failure)" }
        return errors.sorted().map(String.init).joined(separator: ", ")
    }

    /// Everything a server sends after a standard handshake is whole frames: a ConnectResponse, then
    /// replies at least a ReplyHeader long (a last frame may be cut off by an abort).
    static func checkFraming(_ bytes: [UInt8]) -> String? {
        var offset = 0
        var first = true
        while bytes.count - offset >= 4 {
            let length = Int(load(bytes, at: offset) as Int32)
            if length < 0 || length > 16 << 20 { return "a reply frame with length \(length)" }
            guard bytes.count - offset - 4 >= length else { return nil }
            if first && length < 36 { return "a ConnectResponse of \(length) bytes" }
            if !first && length < 16 { return "a reply of \(length) bytes (shorter than a ReplyHeader)" }
            first = false
            offset += 4 + length
        }
        return nil
    }

    /// A big-endian integer at `offset`.
    private static func load<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int) -> T {
        var value: T = 0
        for index in offset..<(offset + MemoryLayout<T>.size) { value = value << 8 | T(truncatingIfNeeded: bytes[index]) }
        return value
    }
}
