import ZooKeeperProtocol

/// Cuts the learner channel's byte stream into `QuorumPacket`s. The channel has no length prefix, so
/// packets are decoded straight from the stream (a truncated record waits for more bytes); after a SNAP
/// packet the stream switches to the snapshot grammar until `"BenWasHere"`.
struct QuorumPacketReader {
    enum Item {
        case packet(QuorumPacket)
        /// The snapshot that followed a SNAP packet, complete.
        case snapshot(SnapshotStreamReader)
    }

    /// Buffers and strings are bounded by `jute.maxbuffer` plus Apache's extra allowance.
    let maxLength: Int
    private var input: [UInt8] = []
    private var snapshot: SnapshotStreamReader?

    init(maxLength: Int = 2 * JuteReader.defaultMaxLength) { self.maxLength = maxLength }

    mutating func append(_ bytes: ArraySlice<UInt8>) { input += bytes }

    /// Call after a SNAP packet: what follows is a snapshot stream.
    mutating func expectSnapshot() { snapshot = SnapshotStreamReader(maxLength: maxLength) }

    /// The next complete item, or nil until more bytes arrive. Throws on a malformed stream.
    mutating func next() throws(JuteDecodingError) -> Item? {
        if var reader = snapshot {
            let consumed = try reader.consume(input[...])
            input.removeFirst(consumed)
            guard reader.isComplete else {
                snapshot = reader
                return nil
            }
            snapshot = nil
            return .snapshot(reader)
        }
        var reader = JuteReader(input, maxLength: maxLength)
        do {
            let packet = try reader.read(QuorumPacket.self)
            input.removeFirst(reader.offset)
            return .packet(packet)
        } catch .truncated {
            return nil
        }
    }
}
