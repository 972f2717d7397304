import Testing
import ZooKeeperProtocol

@Suite struct ZooKeeperErrorCodeTests {
    @Test(arguments: [Int32(-126), -9999, 1, 42, .min, .max])
    func unknownCodesArePreserved(raw: Int32) {
        let code = ZooKeeperErrorCode(rawValue: raw)
        #expect(code.rawValue == raw)
        #expect(!code.isKnown)
        #expect(code.description == "unknownError(\(raw))")
        #expect(code != .ok)
    }

    @Test func knownCodes() {
        #expect(ZooKeeperErrorCode(rawValue: -101) == .noNode)
        #expect(ZooKeeperErrorCode.noNode.description == "noNode")
        #expect(ZooKeeperErrorCode.quotaExceeded.rawValue == -125)
        #expect(ZooKeeperErrorCode.throttledOp.isKnown)
        #expect(ZooKeeperErrorCode.ok.rawValue == 0)
    }

    @Test func unknownCodesSurviveAReplyAndAMulti() throws {
        let header = try ReplyHeader(juteBytes: ReplyHeader(xid: 5, zxid: 1, err: -4242).juteBytes())
        #expect(ZooKeeperErrorCode(rawValue: header.err).description == "unknownError(-4242)")
        let multi = MultiResponse(results: [.error(ZooKeeperErrorCode(rawValue: -4242))])
        #expect(try MultiResponse(juteBytes: multi.juteBytes()) == multi)
    }

    @Test func unknownOpCodesArePreserved() {
        let op = OpCode(rawValue: 999)
        #expect(!op.isKnown)
        #expect(op.description == "unknown(999)")
        #expect(OpCode.multiRead.description == "multiRead")
    }
}
