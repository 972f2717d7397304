/// Carries out one ``FuzzCase`` over a raw TCP connection and judges the server's answer. Blocking,
/// every read bounded by ``timeout``: a server that neither answers nor closes in time has hung.
public struct FuzzCaseRunner: Sendable {
    public let host: String
    public let port: Int
    /// How long any one awaited answer (a frame, or the server's close) may take.
    public let timeout: Duration
    /// Accept a session's replies in any order. An ensemble member answers auth packets and unknown opcodes
    /// at once while the writes before them wait for the quorum — Apache's members do the same — so only
    /// a standalone server answers strictly in request order.
    public let anyReplyOrder: Bool

    public init(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(10), anyReplyOrder: Bool = false) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.anyReplyOrder = anyReplyOrder
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
            var pending = expected[...]
            while let frame = pending.first {
                if anyReplyOrder, case .reply = frame {
                    // This reply and those right after it, in whatever order they come.
                    let replies = pending.prefix { if case .reply = $0 { true } else { false } }
                    if let problem = expectInAnyOrder(Array(replies), closes: thenClosed, on: connection) { return problem }
                    pending = pending.dropFirst(replies.count)
                } else {
                    if let problem = expect(frame, on: connection) { return problem }
                    pending = pending.dropFirst()
                }
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

    /// Reads until every one of `replies` arrived, matched by xid, in any order (notifications skipped).
    /// With `closes` (a request in the case makes the server close), the close may come first: a member
    /// answers such a request at once, and the replies of writes still waiting for the quorum are lost with
    /// the connection, as on Apache's members (`UnimplementedRequestProcessor` then `sendCloseSession`).
    private func expectInAnyOrder(_ replies: [FuzzExpectedFrame], closes: Bool, on connection: RawConnection) -> String? {
        var waiting = replies
        while !waiting.isEmpty {
            let frame: [UInt8]
            switch (try? connection.readFrame(within: timeout)) ?? .closed {
            case let .frame(bytes): frame = bytes
            case .closed: return closes ? nil : "the server closed the connection before sending \(waiting[0])"
            case .timedOut: return "no answer within \(timeout) while waiting for \(waiting[0]) (hang)"
            }
            guard let got = RawConnection.replyXid(frame), let err = RawConnection.replyError(frame) else {
                return "a reply of \(frame.count) bytes (shorter than a ReplyHeader)"
            }
            let index = waiting.firstIndex { if case let .reply(xid, _, _) = $0 { xid == got } else { false } }
            guard let index else {
                if got == -1 { continue }  // a watch notification
                return "a reply to xid \(got) (err \(err)) while waiting for \(waiting)"
            }
            if case let .reply(xid, errors, request) = waiting[index], !errors.contains(err) {
                return "xid \(xid) (\(request)): err \(err) is not among the allowed \(Self.describe(errors))"
            }
            waiting.remove(at: index)
        }
        return nil
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
