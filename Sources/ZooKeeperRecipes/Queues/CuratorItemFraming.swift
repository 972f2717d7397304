/// Curator `DistributedQueue`'s node data framing (`queue/ItemSerializer.java`): a big-endian int
/// version `0x00010001`, then per item `0x01`, a big-endian int length and the item's bytes, then
/// `0x02`. One node can hold several items (Curator's `putMulti`).
enum CuratorItemFraming {
    static let version: UInt32 = 0x0001_0001
    static let itemOpcode: UInt8 = 0x01
    static let endOpcode: UInt8 = 0x02

    static func frame(_ items: [[UInt8]]) -> [UInt8] {
        var bytes = bigEndian(version)
        for item in items {
            bytes.append(itemOpcode)
            bytes += bigEndian(UInt32(item.count))
            bytes += item
        }
        bytes.append(endOpcode)
        return bytes
    }

    /// The items of one node's data.
    /// - Throws: ``QueueFramingError`` for anything that is not a whole, well-formed frame.
    static func items(_ bytes: [UInt8]) throws -> [[UInt8]] {
        guard bytes.count >= 5, readUInt32(bytes, at: 0) == version else { throw QueueFramingError.notCuratorFramed }
        var items: [[UInt8]] = []
        var offset = 4
        while offset < bytes.count {
            let opcode = bytes[offset]
            offset += 1
            if opcode == endOpcode { return items }
            guard opcode == itemOpcode, offset + 4 <= bytes.count else { throw QueueFramingError.malformed(offset: offset) }
            let length = Int(readUInt32(bytes, at: offset))
            offset += 4
            guard length <= bytes.count - offset else { throw QueueFramingError.malformed(offset: offset) }
            items.append(Array(bytes[offset..<offset + length]))
            offset += length
        }
        throw QueueFramingError.malformed(offset: offset)  // no end marker
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// Why a queue node's data is not one Curator-framed item.
public enum QueueFramingError: Error, Hashable, Sendable {
    /// The data does not start with Curator's `ItemSerializer` version.
    case notCuratorFramed
    /// A truncated or corrupt frame (byte offset of the problem).
    case malformed(offset: Int)
    /// The node holds several items (Curator's `putMulti`); these queues take one item per node.
    case multipleItems(count: Int)
}

extension QueueSerializer {
    /// Curator `DistributedQueue`'s framing around `item`'s bytes, so Curator producers and
    /// consumers on the same path exchange items with ours (the Java side's `QueueSerializer` must
    /// read and write the same item bytes as `item`, e.g. UTF-8 text or JSON).
    ///
    /// Notable behaviours: a node holding several items (Curator's `putMulti`) cannot be taken as one
    /// item: decoding it throws ``QueueFramingError/multipleItems(count:)``, and a queue handles the node
    /// by its ``QueueErrorMode`` (by default requeued unchanged, so a Curator consumer can still take it).
    public static func curatorFramed(_ item: QueueSerializer<Item>) -> QueueSerializer<Item> {
        QueueSerializer(
            encode: { value in CuratorItemFraming.frame([try item.encode(value)]) },
            decode: { bytes in
                let items = try CuratorItemFraming.items(bytes)
                guard items.count == 1 else { throw QueueFramingError.multipleItems(count: items.count) }
                return try item.decode(items[0])
            })
    }
}
