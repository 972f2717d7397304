import Foundation

/// How a queue turns an item into node data and back.
///
/// ``json`` (the default for `Codable` items) stores `JSONEncoder` output; ``raw`` stores the bytes
/// unchanged (one item per node, like Curator's `SimpleDistributedQueue` and kazoo's `Queue`, so those
/// clients read our byte items and we read theirs).
public struct QueueSerializer<Item>: Sendable {
    public var encode: @Sendable (Item) throws -> [UInt8]
    public var decode: @Sendable ([UInt8]) throws -> Item

    public init(encode: @escaping @Sendable (Item) throws -> [UInt8], decode: @escaping @Sendable ([UInt8]) throws -> Item) {
        self.encode = encode
        self.decode = decode
    }
}

extension QueueSerializer where Item: Codable & SendableMetatype {
    /// JSON via `Codable`.
    public static var json: QueueSerializer<Item> {
        QueueSerializer(
            encode: { item in Array(try JSONEncoder().encode(item)) },
            decode: { bytes in try JSONDecoder().decode(Item.self, from: Data(bytes)) })
    }
}

extension QueueSerializer where Item == [UInt8] {
    /// The bytes themselves.
    public static var raw: QueueSerializer<[UInt8]> { QueueSerializer(encode: { $0 }, decode: { $0 }) }
}
