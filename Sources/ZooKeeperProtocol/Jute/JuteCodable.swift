/// A jute record that can be written in ZooKeeper's binary archive format.
public protocol JuteEncodable: Sendable {
    /// Appends this record's fields, in declaration order, to `writer`.
    func encode(to writer: inout JuteWriter)
}

/// A jute record that can be read from ZooKeeper's binary archive format.
public protocol JuteDecodable: Sendable {
    /// Reads this record's fields, in declaration order, from `reader`.
    init(from reader: inout JuteReader) throws(JuteDecodingError)
}

/// A jute record that can be both written and read.
public typealias JuteCodable = JuteEncodable & JuteDecodable

extension JuteEncodable {
    /// The record's bytes on their own (no frame length prefix).
    public func juteBytes() -> [UInt8] {
        var writer = JuteWriter()
        encode(to: &writer)
        return writer.bytes
    }
}

extension JuteDecodable {
    /// Decodes a record that must fill `bytes` exactly.
    public init(juteBytes bytes: [UInt8], maxLength: Int = JuteReader.defaultMaxLength) throws(JuteDecodingError) {
        var reader = JuteReader(bytes, maxLength: maxLength)
        self = try Self(from: &reader)
        try reader.expectEnd()
    }
}
