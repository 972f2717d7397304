import Testing
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// The learner channel has no length prefix: packets are cut from the stream as they complete, whatever
/// sizes the reads come in, and the bytes already decoded are dropped in bulk.
@Suite struct QuorumPacketReaderTests {
    @Test func packetsComeOutWholeAndInOrderWhateverTheReadSizes() throws {
        var random = SplitMix64(seed: 7)
        var sent: [QuorumPacket] = []
        var stream = JuteWriter()
        for index in 0..<3_000 {
            let size = Int(random.next() % 300)
            let packet = QuorumPacket(index % 3 == 0 ? .ack : .proposal, zxid: Int64(index),
                                      data: index % 3 == 0 ? nil : [UInt8](repeating: UInt8(index % 251), count: size))
            sent.append(packet)
            stream.write(packet)
        }
        let bytes = stream.bytes
        #expect(bytes.count > 2 * 64 * 1024)  // enough to cross the reader's compaction threshold
        var reader = QuorumPacketReader()
        var received: [QuorumPacket] = []
        var offset = 0
        while offset < bytes.count {
            // Reads of 1 byte up to 20 KiB: packets split anywhere, many in one read.
            let length = min(bytes.count - offset, random.next() % 4 == 0 ? 1 : Int(random.next() % 20_000) + 1)
            reader.append(bytes[offset..<(offset + length)])
            offset += length
            while case let .packet(packet)? = try reader.next() { received.append(packet) }
        }
        #expect(received == sent)
        let leftover = try reader.next()
        #expect(leftover == nil, "no bytes left over")
    }
}
