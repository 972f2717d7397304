// Records of jute module `org.apache.zookeeper.data`, in zookeeper.jute's order.

/// An identity in an ACL (`Id`): a scheme and the id within it, e.g. `digest` / `user:hash`.
public struct Id: Hashable, Sendable, Codable {
    public var scheme: String
    public var id: String
    public init(scheme: String, id: String) {
        self.scheme = scheme
        self.id = id
    }
}

extension Id: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(scheme)
        writer.writeString(id)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        scheme = try reader.readString()
        id = try reader.readString()
    }
}

/// One ACL entry (`ACL`): the permissions granted to an identity.
public struct ACL: Hashable, Sendable, Codable {
    public var perms: Permissions
    public var id: Id
    public init(perms: Permissions, id: Id) {
        self.perms = perms
        self.id = id
    }
}

extension ACL: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(perms.rawValue)
        writer.write(id)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        perms = Permissions(rawValue: try reader.readInt32())
        id = try reader.read(Id.self)
    }
}

/// A znode's metadata (`Stat`), in jute field order.
public struct Stat: Hashable, Sendable, Codable {
    /// The zxid of the change that created the node.
    public var czxid: Int64
    /// The zxid of the change that last modified the node's data.
    public var mzxid: Int64
    /// Creation time, milliseconds since the epoch.
    public var ctime: Int64
    /// Last data modification time, milliseconds since the epoch.
    public var mtime: Int64
    /// Number of changes to the data (`dataVersion`).
    public var version: Int32
    /// Number of changes to the children.
    public var cversion: Int32
    /// Number of changes to the ACL.
    public var aversion: Int32
    /// The owning session for an ephemeral node; 0 otherwise (or ``EphemeralOwner`` markers).
    public var ephemeralOwner: Int64
    public var dataLength: Int32
    public var numChildren: Int32
    /// The zxid of the change that last modified the children.
    public var pzxid: Int64

    public init(
        czxid: Int64 = 0, mzxid: Int64 = 0, ctime: Int64 = 0, mtime: Int64 = 0, version: Int32 = 0,
        cversion: Int32 = 0, aversion: Int32 = 0, ephemeralOwner: Int64 = 0, dataLength: Int32 = 0,
        numChildren: Int32 = 0, pzxid: Int64 = 0
    ) {
        self.czxid = czxid
        self.mzxid = mzxid
        self.ctime = ctime
        self.mtime = mtime
        self.version = version
        self.cversion = cversion
        self.aversion = aversion
        self.ephemeralOwner = ephemeralOwner
        self.dataLength = dataLength
        self.numChildren = numChildren
        self.pzxid = pzxid
    }
}

extension Stat: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(czxid)
        writer.write(mzxid)
        writer.write(ctime)
        writer.write(mtime)
        writer.write(version)
        writer.write(cversion)
        writer.write(aversion)
        writer.write(ephemeralOwner)
        writer.write(dataLength)
        writer.write(numChildren)
        writer.write(pzxid)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        czxid = try reader.readInt64()
        mzxid = try reader.readInt64()
        ctime = try reader.readInt64()
        mtime = try reader.readInt64()
        version = try reader.readInt32()
        cversion = try reader.readInt32()
        aversion = try reader.readInt32()
        ephemeralOwner = try reader.readInt64()
        dataLength = try reader.readInt32()
        numChildren = try reader.readInt32()
        pzxid = try reader.readInt64()
    }
}

/// The metadata the server stores for a node (`StatPersisted`): `Stat` without the derived fields.
public struct StatPersisted: Hashable, Sendable {
    public var czxid: Int64
    public var mzxid: Int64
    public var ctime: Int64
    public var mtime: Int64
    public var version: Int32
    public var cversion: Int32
    public var aversion: Int32
    public var ephemeralOwner: Int64
    public var pzxid: Int64

    public init(
        czxid: Int64, mzxid: Int64, ctime: Int64, mtime: Int64, version: Int32, cversion: Int32,
        aversion: Int32, ephemeralOwner: Int64, pzxid: Int64
    ) {
        self.czxid = czxid
        self.mzxid = mzxid
        self.ctime = ctime
        self.mtime = mtime
        self.version = version
        self.cversion = cversion
        self.aversion = aversion
        self.ephemeralOwner = ephemeralOwner
        self.pzxid = pzxid
    }
}

extension StatPersisted: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(czxid)
        writer.write(mzxid)
        writer.write(ctime)
        writer.write(mtime)
        writer.write(version)
        writer.write(cversion)
        writer.write(aversion)
        writer.write(ephemeralOwner)
        writer.write(pzxid)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        czxid = try reader.readInt64()
        mzxid = try reader.readInt64()
        ctime = try reader.readInt64()
        mtime = try reader.readInt64()
        version = try reader.readInt32()
        cversion = try reader.readInt32()
        aversion = try reader.readInt32()
        ephemeralOwner = try reader.readInt64()
        pzxid = try reader.readInt64()
    }
}

/// One authenticated identity of a session, as `whoAmI` reports it (`ClientInfo`).
public struct ClientInfo: Hashable, Sendable, Codable {
    public var authScheme: String
    public var user: String
    public init(authScheme: String, user: String) {
        self.authScheme = authScheme
        self.user = user
    }
}

extension ClientInfo: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(authScheme)
        writer.writeString(user)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        authScheme = try reader.readString()
        user = try reader.readString()
    }
}
