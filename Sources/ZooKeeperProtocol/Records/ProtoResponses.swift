// Response records of jute module `org.apache.zookeeper.proto`, in zookeeper.jute's order.

/// The answer to a ``SetDataRequest`` (and to a standalone check) (`SetDataResponse`).
public struct SetDataResponse: Hashable, Sendable {
    public var stat: Stat
    public init(stat: Stat) {
        self.stat = stat
    }
}

extension SetDataResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(stat)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        stat = try reader.read(Stat.self)
    }
}

/// Legacy, unused by 3.8 servers (`GetMaxChildrenResponse`).
public struct GetMaxChildrenResponse: Hashable, Sendable {
    public var max: Int32
    public init(max: Int32) {
        self.max = max
    }
}

extension GetMaxChildrenResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(max)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        max = try reader.readInt32()
    }
}

/// The answer to a ``SyncRequest`` (`SyncResponse`).
public struct SyncResponse: Hashable, Sendable {
    public var path: String
    public init(path: String) {
        self.path = path
    }
}

extension SyncResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
    }
}

/// The answer to a ``SetACLRequest`` (`SetACLResponse`).
public struct SetACLResponse: Hashable, Sendable {
    public var stat: Stat
    public init(stat: Stat) {
        self.stat = stat
    }
}

extension SetACLResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(stat)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        stat = try reader.read(Stat.self)
    }
}

/// The answer to a create (`CreateResponse`): the actual path, with any sequence suffix.
public struct CreateResponse: Hashable, Sendable {
    public var path: String
    public init(path: String) {
        self.path = path
    }
}

extension CreateResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
    }
}

/// The answer to create2, createContainer and createTTL (`Create2Response`).
public struct Create2Response: Hashable, Sendable {
    public var path: String
    public var stat: Stat
    public init(path: String, stat: Stat) {
        self.path = path
        self.stat = stat
    }
}

extension Create2Response: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.write(stat)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        stat = try reader.read(Stat.self)
    }
}

/// The answer to an ``ExistsRequest`` for an existing node (`ExistsResponse`).
public struct ExistsResponse: Hashable, Sendable {
    public var stat: Stat
    public init(stat: Stat) {
        self.stat = stat
    }
}

extension ExistsResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(stat)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        stat = try reader.read(Stat.self)
    }
}

/// The answer to a ``GetDataRequest`` (`GetDataResponse`); also the answer to reconfig.
///
/// Notable behaviours: null data (length -1) decodes as empty.
public struct GetDataResponse: Hashable, Sendable {
    public var data: [UInt8]
    public var stat: Stat
    public init(data: [UInt8], stat: Stat) {
        self.data = data
        self.stat = stat
    }
}

extension GetDataResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeBuffer(data)
        writer.write(stat)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        data = try reader.readBuffer()
        stat = try reader.read(Stat.self)
    }
}

/// The answer to a ``GetChildrenRequest`` (`GetChildrenResponse`).
public struct GetChildrenResponse: Hashable, Sendable {
    public var children: [String]
    public init(children: [String]) {
        self.children = children
    }
}

extension GetChildrenResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeStringVector(children)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        children = try reader.readStringVector()
    }
}

/// The answer to a ``GetAllChildrenNumberRequest`` (`GetAllChildrenNumberResponse`).
public struct GetAllChildrenNumberResponse: Hashable, Sendable {
    public var totalNumber: Int32
    public init(totalNumber: Int32) {
        self.totalNumber = totalNumber
    }
}

extension GetAllChildrenNumberResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(totalNumber)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        totalNumber = try reader.readInt32()
    }
}

/// The answer to a ``GetChildren2Request`` (`GetChildren2Response`).
public struct GetChildren2Response: Hashable, Sendable {
    public var children: [String]
    public var stat: Stat
    public init(children: [String], stat: Stat) {
        self.children = children
        self.stat = stat
    }
}

extension GetChildren2Response: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeStringVector(children)
        writer.write(stat)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        children = try reader.readStringVector()
        stat = try reader.read(Stat.self)
    }
}

/// The answer to a ``GetACLRequest`` (`GetACLResponse`).
public struct GetACLResponse: Hashable, Sendable {
    public var acl: [ACL]
    public var stat: Stat
    public init(acl: [ACL], stat: Stat) {
        self.acl = acl
        self.stat = stat
    }
}

extension GetACLResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeVector(acl)
        writer.write(stat)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        acl = try reader.readVector(of: ACL.self)
        stat = try reader.read(Stat.self)
    }
}

/// The answer to a ``GetEphemeralsRequest`` (`GetEphemeralsResponse`).
public struct GetEphemeralsResponse: Hashable, Sendable {
    public var ephemerals: [String]
    public init(ephemerals: [String]) {
        self.ephemerals = ephemerals
    }
}

extension GetEphemeralsResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeStringVector(ephemerals)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        ephemerals = try reader.readStringVector()
    }
}

/// The answer to whoAmI, opcode 107 (`WhoAmIResponse`).
public struct WhoAmIResponse: Hashable, Sendable {
    public var clientInfo: [ClientInfo]
    public init(clientInfo: [ClientInfo]) {
        self.clientInfo = clientInfo
    }
}

extension WhoAmIResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeVector(clientInfo)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        clientInfo = try reader.readVector(of: ClientInfo.self)
    }
}
