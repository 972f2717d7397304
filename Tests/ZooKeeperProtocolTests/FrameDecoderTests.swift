import Testing
import ZooKeeperProtocol

@Suite struct FrameDecoderTests {
    let bodies: [[UInt8]] = [[], [1], Array(0..<200).map { UInt8($0) }, h("fffffffe0000000b")]

    func drain(_ decoder: inout FrameDecoder) throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        while let frame = try decoder.next() { frames.append(frame) }
        return frames
    }

    @Test func byteByByteDelivery() throws {
        let stream = bodies.flatMap(Frame.encode)
        var decoder = FrameDecoder()
        var frames: [[UInt8]] = []
        for byte in stream {
            decoder.append([byte])
            frames += try drain(&decoder)
        }
        #expect(frames == bodies)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func manyFramesInOneChunk() throws {
        var decoder = FrameDecoder()
        decoder.append(bodies.flatMap(Frame.encode))
        #expect(try drain(&decoder) == bodies)
    }

    @Test func partialFrameWaits() throws {
        var decoder = FrameDecoder()
        decoder.append(h("000000"))
        #expect(try decoder.next() == nil)
        decoder.append(h("03 0102"))
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedByteCount == 6)
        decoder.append(h("03 00"))
        #expect(try decoder.next() == [1, 2, 3])
        #expect(decoder.bufferedByteCount == 1)
        #expect(try decoder.next() == nil)
    }

    @Test func oversizedLengthIsRejected() {
        var decoder = FrameDecoder()
        decoder.append(h("00100000"))  // 0xfffff + 1
        #expect(throws: FrameError.lengthOutOfRange(length: 0x10_0000, maximum: 0xfffff)) { try decoder.next() }
    }

    @Test func customMaximumIsInclusive() throws {
        var decoder = FrameDecoder(maximumLength: 4)
        decoder.append(Frame.encode([1, 2, 3, 4]))
        #expect(try decoder.next() == [1, 2, 3, 4])
        decoder.append(Frame.encode([1, 2, 3, 4, 5]))
        #expect(throws: FrameError.lengthOutOfRange(length: 5, maximum: 4)) { try decoder.next() }
    }

    @Test(arguments: ["ffffffff", "80000000", "fffffffe"])
    func negativeLengthIsRejected(prefix: String) {
        var decoder = FrameDecoder()
        decoder.append(h(prefix))
        #expect(throws: FrameError.self) { try decoder.next() }
    }

    @Test func longStreamDoesNotGrowUnbounded() throws {
        var decoder = FrameDecoder()
        let frame = Frame.encode([UInt8](repeating: 7, count: 1000))
        for _ in 0..<200 {
            decoder.append(frame + frame.prefix(10))
            _ = try decoder.next()
            decoder.append(frame.dropFirst(10))
            _ = try decoder.next()
        }
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func encodeWithHeaderMatchesManualFrame() {
        let record = DeleteRequest(path: "/a", version: -1)
        var writer = JuteWriter()
        writer.write(RequestHeader(xid: 7, type: OpCode.delete.rawValue))
        writer.write(record)
        #expect(Frame.encode(xid: 7, opCode: .delete, record: record) == Frame.encode(writer.bytes))
    }
}
