/// Length-prefixed framing: every packet in both directions is `int32 length` + `length` bytes.
public enum Frame {
    /// Encodes `body` as one frame.
    public static func encode(_ body: [UInt8]) -> [UInt8] {
        var writer = JuteWriter(capacity: body.count + 4)
        writer.write(Int32(truncatingIfNeeded: body.count))
        writer.writeRaw(body)
        return writer.bytes
    }

    /// Encodes a request header plus its record as one frame, without an intermediate copy.
    public static func encode(xid: Int32, opCode: OpCode, record: (any JuteEncodable)?) -> [UInt8] {
        var writer = JuteWriter(capacity: 64)
        writer.write(Int32(0))  // patched below
        writer.write(xid)
        writer.write(opCode.rawValue)
        if let record { record.encode(to: &writer) }
        var bytes = writer.bytes
        let length = UInt32(bytes.count - 4)
        bytes[0] = UInt8(truncatingIfNeeded: length >> 24)
        bytes[1] = UInt8(truncatingIfNeeded: length >> 16)
        bytes[2] = UInt8(truncatingIfNeeded: length >> 8)
        bytes[3] = UInt8(truncatingIfNeeded: length)
        return bytes
    }
}

/// A frame that broke the framing rules.
public enum FrameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The length prefix was negative or above the configured maximum (jute.maxbuffer).
    case lengthOutOfRange(length: Int32, maximum: Int)

    public var description: String {
        switch self {
        case let .lengthOutOfRange(length, maximum):
            return "Packet len \(length) is out of range (maximum \(maximum))"
        }
    }
}

/// Cuts a byte stream into frames. Only this type knows about "need more bytes".
public struct FrameDecoder: Sendable {
    /// The largest accepted frame body.
    public let maximumLength: Int
    private var buffer: [UInt8] = []
    private var start = 0

    /// - Parameter maximumLength: the largest frame body accepted, by default jute.maxbuffer (0xfffff).
    public init(maximumLength: Int = JuteReader.defaultMaxLength) {
        self.maximumLength = maximumLength
    }

    /// Bytes buffered but not yet returned as a frame.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Bytes held in storage, including a consumed prefix not yet compacted away (for bound checks in tests).
    var retainedByteCount: Int { buffer.count }

    /// Adds bytes read from the stream.
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Returns the next complete frame body, or `nil` if more bytes are needed.
    /// - Throws: ``FrameError`` when the length prefix is out of range; the stream is then unusable.
    public mutating func next() throws(FrameError) -> [UInt8]? {
        let available = buffer.count - start
        guard available >= 4 else { return nil }
        var raw: UInt32 = 0
        for index in start..<(start + 4) { raw = raw << 8 | UInt32(buffer[index]) }
        let length = Int32(bitPattern: raw)
        guard length >= 0, Int(length) <= maximumLength else {
            throw .lengthOutOfRange(length: length, maximum: maximumLength)
        }
        guard available >= 4 + Int(length) else { return nil }
        let bodyStart = start + 4
        let body = Array(buffer[bodyStart..<(bodyStart + Int(length))])
        start = bodyStart + Int(length)
        // Compact once the consumed prefix dominates, so the buffer does not grow without bound.
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 65_536 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return body
    }
}
