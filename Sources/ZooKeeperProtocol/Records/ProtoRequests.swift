// Request records of jute module `org.apache.zookeeper.proto`, in zookeeper.jute's order.

/// Reads a node's data (`GetDataRequest`, opcode 4).
public struct GetDataRequest: Hashable, Sendable {
    public var path: String
    public var watch: Bool
    public init(path: String, watch: Bool) {
        self.path = path
        self.watch = watch
    }
}

extension GetDataRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.write(watch)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        watch = try reader.readBool()
    }
}

/// Replaces a node's data if `version` matches, -1 for any (`SetDataRequest`, opcode 5).
public struct SetDataRequest: Hashable, Sendable {
    public var path: String
    public var data: [UInt8]
    public var version: Int32
    public init(path: String, data: [UInt8], version: Int32) {
        self.path = path
        self.data = data
        self.version = version
    }
}

extension SetDataRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.writeBuffer(data)
        writer.write(version)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        data = try reader.readBuffer()
        version = try reader.readInt32()
    }
}

/// Changes the ensemble's membership (`ReconfigRequest`, opcode 16).
public struct ReconfigRequest: Hashable, Sendable {
    public var joiningServers: String
    public var leavingServers: String
    public var newMembers: String
    public var curConfigId: Int64
    public init(joiningServers: String, leavingServers: String, newMembers: String, curConfigId: Int64) {
        self.joiningServers = joiningServers
        self.leavingServers = leavingServers
        self.newMembers = newMembers
        self.curConfigId = curConfigId
    }
}

extension ReconfigRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(joiningServers)
        writer.writeString(leavingServers)
        writer.writeString(newMembers)
        writer.write(curConfigId)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        joiningServers = try reader.readString()
        leavingServers = try reader.readString()
        newMembers = try reader.readString()
        curConfigId = try reader.readInt64()
    }
}

/// Creates a node (`CreateRequest`, opcodes 1, 15 and 19). `flags` is a ``CreateMode`` raw value.
public struct CreateRequest: Hashable, Sendable {
    public var path: String
    public var data: [UInt8]
    public var acl: [ACL]
    public var flags: Int32
    public init(path: String, data: [UInt8], acl: [ACL], flags: Int32) {
        self.path = path
        self.data = data
        self.acl = acl
        self.flags = flags
    }
}

extension CreateRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.writeBuffer(data)
        writer.writeVector(acl)
        writer.write(flags)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        data = try reader.readBuffer()
        acl = try reader.readVector(of: ACL.self)
        flags = try reader.readInt32()
    }
}

/// Creates a TTL node (`CreateTTLRequest`, opcode 21). Needs `zookeeper.extendedTypesEnabled`.
public struct CreateTTLRequest: Hashable, Sendable {
    public var path: String
    public var data: [UInt8]
    public var acl: [ACL]
    public var flags: Int32
    public var ttl: Int64
    public init(path: String, data: [UInt8], acl: [ACL], flags: Int32, ttl: Int64) {
        self.path = path
        self.data = data
        self.acl = acl
        self.flags = flags
        self.ttl = ttl
    }
}

extension CreateTTLRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.writeBuffer(data)
        writer.writeVector(acl)
        writer.write(flags)
        writer.write(ttl)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        data = try reader.readBuffer()
        acl = try reader.readVector(of: ACL.self)
        flags = try reader.readInt32()
        ttl = try reader.readInt64()
    }
}

/// Deletes a node if `version` matches, -1 for any (`DeleteRequest`, opcode 2).
public struct DeleteRequest: Hashable, Sendable {
    public var path: String
    public var version: Int32
    public init(path: String, version: Int32) {
        self.path = path
        self.version = version
    }
}

extension DeleteRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.write(version)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        version = try reader.readInt32()
    }
}

/// Lists a node's children (`GetChildrenRequest`, opcode 8).
public struct GetChildrenRequest: Hashable, Sendable {
    public var path: String
    public var watch: Bool
    public init(path: String, watch: Bool) {
        self.path = path
        self.watch = watch
    }
}

extension GetChildrenRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.write(watch)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        watch = try reader.readBool()
    }
}

/// Counts all descendants of a node (`GetAllChildrenNumberRequest`, opcode 104).
public struct GetAllChildrenNumberRequest: Hashable, Sendable {
    public var path: String
    public init(path: String) {
        self.path = path
    }
}

extension GetAllChildrenNumberRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
    }
}

/// Lists a node's children and returns its ``Stat`` (`GetChildren2Request`, opcode 12).
public struct GetChildren2Request: Hashable, Sendable {
    public var path: String
    public var watch: Bool
    public init(path: String, watch: Bool) {
        self.path = path
        self.watch = watch
    }
}

extension GetChildren2Request: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.write(watch)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        watch = try reader.readBool()
    }
}

/// Asserts a node's version, mostly inside a multi (`CheckVersionRequest`, opcode 13).
public struct CheckVersionRequest: Hashable, Sendable {
    public var path: String
    public var version: Int32
    public init(path: String, version: Int32) {
        self.path = path
        self.version = version
    }
}

extension CheckVersionRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.write(version)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        version = try reader.readInt32()
    }
}

/// Legacy, unused by 3.8 servers (`GetMaxChildrenRequest`).
public struct GetMaxChildrenRequest: Hashable, Sendable {
    public var path: String
    public init(path: String) {
        self.path = path
    }
}

extension GetMaxChildrenRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
    }
}

/// Legacy, unused by 3.8 servers (`SetMaxChildrenRequest`).
public struct SetMaxChildrenRequest: Hashable, Sendable {
    public var path: String
    public var max: Int32
    public init(path: String, max: Int32) {
        self.path = path
        self.max = max
    }
}

extension SetMaxChildrenRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.write(max)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        max = try reader.readInt32()
    }
}

/// Makes the connected server catch up with the leader (`SyncRequest`, opcode 9).
public struct SyncRequest: Hashable, Sendable {
    public var path: String
    public init(path: String) {
        self.path = path
    }
}

extension SyncRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
    }
}

/// Reads a node's ACL (`GetACLRequest`, opcode 6).
public struct GetACLRequest: Hashable, Sendable {
    public var path: String
    public init(path: String) {
        self.path = path
    }
}

extension GetACLRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
    }
}

/// Replaces a node's ACL if `version` (the aversion) matches (`SetACLRequest`, opcode 7).
public struct SetACLRequest: Hashable, Sendable {
    public var path: String
    public var acl: [ACL]
    public var version: Int32
    public init(path: String, acl: [ACL], version: Int32) {
        self.path = path
        self.acl = acl
        self.version = version
    }
}

extension SetACLRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.writeVector(acl)
        writer.write(version)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        acl = try reader.readVector(of: ACL.self)
        version = try reader.readInt32()
    }
}

/// Adds a persistent watch (`AddWatchRequest`, opcode 106). `mode` is an ``AddWatchMode`` raw value.
public struct AddWatchRequest: Hashable, Sendable {
    public var path: String
    public var mode: Int32
    public init(path: String, mode: Int32) {
        self.path = path
        self.mode = mode
    }
}

extension AddWatchRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.write(mode)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        mode = try reader.readInt32()
    }
}

/// Checks whether a node exists (`ExistsRequest`, opcode 3).
///
/// Notable behaviours: a missing node answers -101 and the watch is still set.
public struct ExistsRequest: Hashable, Sendable {
    public var path: String
    public var watch: Bool
    public init(path: String, watch: Bool) {
        self.path = path
        self.watch = watch
    }
}

extension ExistsRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.write(watch)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        watch = try reader.readBool()
    }
}

/// Checks that a watch is registered (`CheckWatchesRequest`, opcode 17). `type` is a ``WatcherType`` raw value.
public struct CheckWatchesRequest: Hashable, Sendable {
    public var path: String
    public var type: Int32
    public init(path: String, type: Int32) {
        self.path = path
        self.type = type
    }
}

extension CheckWatchesRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.write(type)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        type = try reader.readInt32()
    }
}

/// Removes watches (`RemoveWatchesRequest`, opcode 18). `type` is a ``WatcherType`` raw value.
public struct RemoveWatchesRequest: Hashable, Sendable {
    public var path: String
    public var type: Int32
    public init(path: String, type: Int32) {
        self.path = path
        self.type = type
    }
}

extension RemoveWatchesRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.write(type)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        type = try reader.readInt32()
    }
}

/// Lists this session's ephemeral nodes whose path starts with `prefixPath` (`GetEphemeralsRequest`, opcode 103).
public struct GetEphemeralsRequest: Hashable, Sendable {
    public var prefixPath: String
    public init(prefixPath: String) {
        self.prefixPath = prefixPath
    }
}

extension GetEphemeralsRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(prefixPath)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        prefixPath = try reader.readString()
    }
}
