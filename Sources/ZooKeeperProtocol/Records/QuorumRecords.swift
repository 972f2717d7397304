// Records of jute module `org.apache.zookeeper.server.quorum`, in zookeeper.jute's order.

/// What a follower or observer tells the leader about itself (`LearnerInfo`).
public struct LearnerInfo: Hashable, Sendable {
    public var serverid: Int64
    public var protocolVersion: Int32
    public var configVersion: Int64
    public init(serverid: Int64, protocolVersion: Int32, configVersion: Int64) {
        self.serverid = serverid
        self.protocolVersion = protocolVersion
        self.configVersion = configVersion
    }
}

extension LearnerInfo: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(serverid)
        writer.write(protocolVersion)
        writer.write(configVersion)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        serverid = try reader.readInt64()
        protocolVersion = try reader.readInt32()
        configVersion = try reader.readInt64()
    }
}

/// A packet between quorum peers (`QuorumPacket`): proposal, ack, commit, ping and so on.
///
/// `data` and `authinfo` keep null apart from empty: Apache sends null (-1) for most packets but an
/// empty buffer in a follower's PING reply with no session touches.
public struct QuorumPacket: Hashable, Sendable {
    public var type: Int32
    public var zxid: Int64
    public var data: [UInt8]?
    public var authinfo: [Id]?
    public init(type: Int32, zxid: Int64, data: [UInt8]? = nil, authinfo: [Id]? = nil) {
        self.type = type
        self.zxid = zxid
        self.data = data
        self.authinfo = authinfo
    }
}

extension QuorumPacket: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(type)
        writer.write(zxid)
        writer.writeBuffer(data)
        writer.writeVector(authinfo)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        type = try reader.readInt32()
        zxid = try reader.readInt64()
        data = try reader.readOptionalBuffer()
        authinfo = try reader.readOptionalVector(of: Id.self)
    }
}

/// A quorum SASL authentication packet (`QuorumAuthPacket`).
public struct QuorumAuthPacket: Hashable, Sendable {
    public var magic: Int64
    public var status: Int32
    public var token: [UInt8]
    public init(magic: Int64, status: Int32, token: [UInt8]) {
        self.magic = magic
        self.status = status
        self.token = token
    }
}

extension QuorumAuthPacket: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(magic)
        writer.write(status)
        writer.writeBuffer(token)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        magic = try reader.readInt64()
        status = try reader.readInt32()
        token = try reader.readBuffer()
    }
}
