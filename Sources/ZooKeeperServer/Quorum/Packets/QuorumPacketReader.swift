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
    /// Where the next item starts in `input`: decoded bytes are dropped in bulk (dropping each packet's bytes
    /// as it was decoded moved the rest of a 64 KiB read once per packet).
    private var position = 0
    private var snapshot: SnapshotStreamReader?

    init(maxLength: Int = 2 * JuteReader.defaultMaxLength) { self.maxLength = maxLength }

    mutating func append(_ bytes: ArraySlice<UInt8>) { input += bytes }

    /// Call after a SNAP packet: what follows is a snapshot stream.
    mutating func expectSnapshot() { snapshot = SnapshotStreamReader(maxLength: maxLength) }

    /// The next complete item, or nil until more bytes arrive. Throws on a malformed stream.
    mutating func next() throws(JuteDecodingError) -> Item? {
        if var reader = snapshot {
            let consumed = try reader.consume(input[position...])
            consume(consumed)
            guard reader.isComplete else {
                snapshot = reader
                return nil
            }
            snapshot = nil
            return .snapshot(reader)
        }
        guard position < input.count else { return nil }
        var reader = JuteReader(input, from: position, maxLength: maxLength)
        do {
            let packet = try reader.read(QuorumPacket.self)
            consume(reader.offset - position)
            return .packet(packet)
        } catch .truncated {
            return nil
        }
    }

    private mutating func consume(_ count: Int) {
        position += count
        if position == input.count {
            input.removeAll(keepingCapacity: true)
            position = 0
        } else if position >= 64 * 1024 && position * 2 > input.count {
            input.removeFirst(position)
            position = 0
        }
    }
}
