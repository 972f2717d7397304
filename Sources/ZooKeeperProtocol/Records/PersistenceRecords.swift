// Records of jute module `org.apache.zookeeper.server.persistence`.

/// The header of a transaction log or snapshot file (`FileHeader`).
public struct FileHeader: Hashable, Sendable {
    public var magic: Int32
    public var version: Int32
    public var dbid: Int64
    public init(magic: Int32, version: Int32, dbid: Int64) {
        self.magic = magic
        self.version = version
        self.dbid = dbid
    }
}

extension FileHeader: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(magic)
        writer.write(version)
        writer.write(dbid)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        magic = try reader.readInt32()
        version = try reader.readInt32()
        dbid = try reader.readInt64()
    }
}
