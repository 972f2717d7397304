import Testing
import ZooKeeperProtocol

/// Bytes captured from Apache ZooKeeper 3.8.0 on loopback (zookeeper-facts.md §1.8).
@Suite struct GoldenBytesTests {
    /// Cuts exactly one frame out of `bytes` with a FrameDecoder.
    func singleFrame(_ bytes: [UInt8]) throws -> [UInt8] {
        var decoder = FrameDecoder()
        decoder.append(bytes)
        let body = try #require(try decoder.next())
        #expect(decoder.bufferedByteCount == 0)
        return body
    }

    @Test func connectRequest() throws {
        let wire = h(
            "0000002d 00000000 0000000000000000 000003e8 0000000000000000 00000010 00000000000000000000000000000000 00")
        #expect(wire.count == 49)
        let request = try ConnectRequest(juteBytes: try singleFrame(wire))
        #expect(
            request
                == ConnectRequest(
                    protocolVersion: 0, lastZxidSeen: 0, timeOut: 1000, sessionId: 0,
                    passwd: [UInt8](repeating: 0, count: 16), readOnly: false))
        #expect(Frame.encode(request.juteBytes()) == wire)
    }

    @Test func connectResponse() throws {
        let wire = h("00000025 00000000 00000fa0 01000008a889001d 00000010 64efb4a08689766e63cee8e2a4471544 00")
        #expect(wire.count == 41)
        let response = try ConnectResponse(juteBytes: try singleFrame(wire))
        #expect(response.protocolVersion == 0)
        #expect(response.timeOut == 4000)
        #expect(response.sessionId == 0x0100_0008_a889_001d)
        #expect(response.passwd == h("64efb4a08689766e63cee8e2a4471544"))
        #expect(response.readOnly == false)
        #expect(Frame.encode(response.juteBytes()) == wire)
    }

    @Test func ping() throws {
        let request = h("00000008 fffffffe 0000000b")
        #expect(try RequestHeader(juteBytes: try singleFrame(request)) == RequestHeader(xid: -2, type: 11))
        #expect(Frame.encode(xid: ReservedXid.ping, opCode: .ping, record: nil) == request)

        let reply = h("00000010 fffffffe 0000000000000061 00000000")
        let header = ReplyHeader(xid: -2, zxid: 0x61, err: 0)
        #expect(try ReplyHeader(juteBytes: try singleFrame(reply)) == header)
        #expect(Frame.encode(header.juteBytes()) == reply)
    }

    @Test func getDataRequest() throws {
        let wire = h("00000013 00000001 00000004 00000006 2f7164656d6f 00")
        let record = GetDataRequest(path: "/qdemo", watch: false)
        #expect(Frame.encode(xid: 1, opCode: .getData, record: record) == wire)
        var reader = JuteReader(try singleFrame(wire))
        #expect(try reader.read(RequestHeader.self) == RequestHeader(xid: 1, type: OpCode.getData.rawValue))
        #expect(try reader.read(GetDataRequest.self) == record)
        try reader.expectEnd()
    }

    @Test func getDataReplyWithBody() throws {
        // ReplyHeader{1, 0x61, 0} + buffer "x" + a 68-byte Stat.
        let stat = Stat(
            czxid: 0x60, mzxid: 0x60, ctime: 1_700_000_000_000, mtime: 1_700_000_000_000, dataLength: 1, pzxid: 0x60)
        var writer = JuteWriter()
        writer.write(ReplyHeader(xid: 1, zxid: 0x61, err: 0))
        writer.write(GetDataResponse(data: Array("x".utf8), stat: stat))
        #expect(writer.bytes.count == 16 + 4 + 1 + 68)
        var reader = JuteReader(writer.bytes)
        #expect(try reader.read(ReplyHeader.self).err == 0)
        #expect(try reader.read(GetDataResponse.self) == GetDataResponse(data: [0x78], stat: stat))
        try reader.expectEnd()
    }

    @Test func errorReplyHasNoBody() throws {
        let wire = h("00000010 00000002 0000000000000061 ffffff9b")
        let body = try singleFrame(wire)
        var reader = JuteReader(body)
        let header = try reader.read(ReplyHeader.self)
        #expect(header == ReplyHeader(xid: 2, zxid: 0x61, err: -101))
        #expect(ZooKeeperErrorCode(rawValue: header.err) == .noNode)
        #expect(reader.remaining == 0)
        #expect(Frame.encode(header.juteBytes()) == wire)
    }

    @Test func closeSession() throws {
        let request = h("00000008 00000003 fffffff5")
        #expect(Frame.encode(xid: 3, opCode: .closeSession, record: nil) == request)
        #expect(try RequestHeader(juteBytes: try singleFrame(request)) == RequestHeader(xid: 3, type: -11))
        let reply = h("00000010 00000003 0000000000000062 00000000")
        #expect(try ReplyHeader(juteBytes: try singleFrame(reply)) == ReplyHeader(xid: 3, zxid: 0x62, err: 0))
    }
}
