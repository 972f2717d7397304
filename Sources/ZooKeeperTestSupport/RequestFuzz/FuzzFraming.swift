/// Cases about framing itself: length prefixes, frames cut short, four-letter words, the largest frames.
enum FuzzFraming {
    /// jute.maxbuffer's default: the largest frame a server accepts.
    static let maxFrame = 0xFFFFF

    static func lengthPrefix(_ random: inout FuzzRandom) -> ([[UInt8]], FuzzExpectation) {
        let shaken = random.chance(0.7)
        let head = shaken ? FuzzCaseGenerator.handshake : []
        switch random.int(0...3) {
        case 0, 1:
            // Out of range: negative or above jute.maxbuffer. Refused at once, whatever follows; the
            // handshake sent with it may go unanswered (as in Apache, the connection is gone first).
            let length = random.pick([Int32(-1), Int32.min, -100, Int32.max, Int32(maxFrame + 1), 16 << 20, 0x7FFF_0000])
            return ([head + RawConnection.int32(length) + random.bytes(random.int(0...64))], .closes)
        case 2:
            // In range but longer than what is sent: the server waits for the rest, then sees EOF.
            let length = random.pick([Int32(maxFrame), 1_000, 65_536, 13])
            return ([head + RawConnection.int32(length) + random.bytes(random.int(0...12))], .closesAfterEOF)
        default:
            // Too short for a request header (or, first on the connection, for a ConnectRequest).
            let length = random.int(0...7)
            return ([head + RawConnection.int32(Int32(length)) + random.bytes(length)], .closes)
        }
    }

    /// A valid stream cut at a random byte, then half-closed (the server must close) or reset.
    static func halfWritten(_ random: inout FuzzRandom) -> ([[UInt8]], FuzzExpectation) {
        let requests = (1...random.int(1...3)).map { xid in FuzzRequests.opening(&random, xid: Int32(xid)) }
        let stream = FuzzCaseGenerator.handshake + requests.flatMap(\.frame)
        let cut = Array(stream[..<random.int(1...(stream.count - 1))])
        return ([cut], random.chance(0.5) ? .closesAfterEOF : .abandon)
    }

    static let words = ["ruok", "srvr", "stat", "mntr", "conf", "envi", "cons", "crst", "dump", "wchs", "wchc", "wchp",
                        "dirs", "isro", "srst", "gtmk", "stmk", "hash", "xxxx", "RUOK"]

    static func fourLetterWord(_ random: inout FuzzRandom) -> ([[UInt8]], FuzzExpectation) {
        var bytes = Array(random.pick(words).utf8)
        if random.chance(0.3) { bytes += random.bytes(random.int(1...16)) }
        return ([bytes], .closesAfterEOF)
    }

    /// Frames at jute.maxbuffer (accepted) or one byte over (refused). The data goes to a node that does
    /// not exist, so that the tree and the log stay small over a long soak.
    static func oversized(_ random: inout FuzzRandom) -> ([[UInt8]], FuzzExpectation) {
        let path = RawConnection.string("/fuzz/zz/big")
        let over = random.chance(0.5)
        // Frame body: xid, type, path, data length, data, version.
        let dataCount = maxFrame - 8 - path.count - 4 - 4 + (over ? 1 : 0)
        let body = RawConnection.int32(1) + RawConnection.int32(5) + path + RawConnection.int32(Int32(dataCount))
            + [UInt8](repeating: 0x5A, count: dataCount) + RawConnection.int32(-1)
        let bytes = FuzzCaseGenerator.handshake + FuzzCaseGenerator.frame(body)
        if over { return ([bytes], .closes) }
        let ping = FuzzCaseGenerator.ping
        let reply = FuzzExpectedFrame.reply(xid: 1, errors: [FuzzErr.noNode], request: "setData of \(dataCount) bytes")
        return ([bytes + ping.frame], .frames([.connectResponse, reply, ping.expected], thenClosed: false))
    }
}
