/// Odd ConnectRequests (the first frame of a connection).
enum FuzzConnectVariants {
    private static func connect(protocolVersion: Int32 = 0, lastZxid: Int64 = 0, timeout: Int32 = FuzzCaseGenerator.sessionTimeoutMilliseconds,
                                session: Int64 = 0, password: [UInt8] = [UInt8](repeating: 0, count: 16), readOnly: [UInt8] = [0]) -> [UInt8] {
        RawConnection.int32(protocolVersion) + RawConnection.int64(lastZxid) + RawConnection.int32(timeout)
            + RawConnection.int64(session) + RawConnection.int32(Int32(password.count)) + password + readOnly
    }

    static func make(_ random: inout FuzzRandom) -> ([[UInt8]], FuzzExpectation) {
        let ping = FuzzCaseGenerator.ping
        let served: FuzzExpectation = .frames([.connectResponse, ping.expected], thenClosed: false)
        switch random.int(0...9) {
        case 0:
            // An unknown session (ids the server hands out have the server id in the top byte: 0 here).
            let session = Int64(bitPattern: random.next() | 0x4000_0000_0000_0000)
            return ([FuzzCaseGenerator.frame(connect(session: session))], .frames([.connectRefused], thenClosed: true))
        case 1:
            // A client that has seen a zxid from the future: closed without an answer.
            let zxid = random.pick([Int64.max, Int64(1) << 40, Int64(UInt32.max)])
            return ([FuzzCaseGenerator.frame(connect(lastZxid: zxid))], .frames([], thenClosed: true))
        case 2:
            // Timeouts out of range: clamped.
            let timeout = random.pick([Int32.min, -1, 0, 1, Int32.max])
            return ([FuzzCaseGenerator.frame(connect(timeout: timeout)) + ping.frame], served)
        case 3:
            let version = random.pick([Int32.min, -1, 1, 42, Int32.max])
            return ([FuzzCaseGenerator.frame(connect(protocolVersion: version)) + ping.frame], served)
        case 4:
            // Passwords of other lengths for a new session: ignored.
            let password = random.bytes(random.pick([0, 1, 15, 17, 255]))
            return ([FuzzCaseGenerator.frame(connect(password: password)) + ping.frame], served)
        case 5:
            // An old client: no readOnly byte.
            return ([FuzzCaseGenerator.frame(connect(readOnly: [])) + ping.frame], served)
        case 6:
            // Trailing bytes after the record.
            return ([FuzzCaseGenerator.frame(connect(readOnly: [1] + random.bytes(random.int(1...100)))) + ping.frame], .closesAfterEOF)
        case 7:
            // Cut short inside the record: unreadable, the connection closes.
            let full = connect()
            let cut = Array(full[..<random.int(0...(full.count - 2))])
            return ([FuzzCaseGenerator.frame(cut)], .frames([], thenClosed: true))
        case 8:
            // A password length that lies (negative or past the frame).
            let head: [UInt8] = Array(connect(password: []).dropLast(5))
            let body: [UInt8] = head + RawConnection.int32(random.pick([-2, 1_000, Int32.max])) + [0]
            return ([FuzzCaseGenerator.frame(body)], .frames([], thenClosed: true))
        default:
            // A second handshake on the same connection.
            return ([FuzzCaseGenerator.handshake + FuzzCaseGenerator.handshake], .closesAfterEOF)
        }
    }
}
