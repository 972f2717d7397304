// Records of jute module `org.apache.zookeeper.txn`, in zookeeper.jute's order.

/// The data tree digest stored after a transaction (`TxnDigest`).
public struct TxnDigest: Hashable, Sendable {
    public var version: Int32
    public var treeDigest: Int64
    public init(version: Int32, treeDigest: Int64) {
        self.version = version
        self.treeDigest = treeDigest
    }
}

extension TxnDigest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(version)
        writer.write(treeDigest)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        version = try reader.readInt32()
        treeDigest = try reader.readInt64()
    }
}

/// Precedes every transaction in the log (`TxnHeader`). `type` is an ``OpCode`` raw value.
public struct TxnHeader: Hashable, Sendable {
    public var clientId: Int64
    public var cxid: Int32
    public var zxid: Int64
    public var time: Int64
    public var type: Int32
    public init(clientId: Int64, cxid: Int32, zxid: Int64, time: Int64, type: Int32) {
        self.clientId = clientId
        self.cxid = cxid
        self.zxid = zxid
        self.time = time
        self.type = type
    }
}

extension TxnHeader: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(clientId)
        writer.write(cxid)
        writer.write(zxid)
        writer.write(time)
        writer.write(type)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        clientId = try reader.readInt64()
        cxid = try reader.readInt32()
        zxid = try reader.readInt64()
        time = try reader.readInt64()
        type = try reader.readInt32()
    }
}

/// A create transaction in the oldest log format (`CreateTxnV0`).
public struct CreateTxnV0: Hashable, Sendable {
    public var path: String
    public var data: [UInt8]
    public var acl: [ACL]
    public var ephemeral: Bool
    public init(path: String, data: [UInt8], acl: [ACL], ephemeral: Bool) {
        self.path = path
        self.data = data
        self.acl = acl
        self.ephemeral = ephemeral
    }
}

extension CreateTxnV0: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.writeBuffer(data)
        writer.writeVector(acl)
        writer.write(ephemeral)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        data = try reader.readBuffer()
        acl = try reader.readVector(of: ACL.self)
        ephemeral = try reader.readBool()
    }
}

/// A create transaction (`CreateTxn`).
public struct CreateTxn: Hashable, Sendable {
    public var path: String
    public var data: [UInt8]
    public var acl: [ACL]
    public var ephemeral: Bool
    public var parentCVersion: Int32
    public init(path: String, data: [UInt8], acl: [ACL], ephemeral: Bool, parentCVersion: Int32) {
        self.path = path
        self.data = data
        self.acl = acl
        self.ephemeral = ephemeral
        self.parentCVersion = parentCVersion
    }
}

extension CreateTxn: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.writeBuffer(data)
        writer.writeVector(acl)
        writer.write(ephemeral)
        writer.write(parentCVersion)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        data = try reader.readBuffer()
        acl = try reader.readVector(of: ACL.self)
        ephemeral = try reader.readBool()
        parentCVersion = try reader.readInt32()
    }
}

/// A TTL node create transaction (`CreateTTLTxn`).
public struct CreateTTLTxn: Hashable, Sendable {
    public var path: String
    public var data: [UInt8]
    public var acl: [ACL]
    public var parentCVersion: Int32
    public var ttl: Int64
    public init(path: String, data: [UInt8], acl: [ACL], parentCVersion: Int32, ttl: Int64) {
        self.path = path
        self.data = data
        self.acl = acl
        self.parentCVersion = parentCVersion
        self.ttl = ttl
    }
}

extension CreateTTLTxn: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.writeBuffer(data)
        writer.writeVector(acl)
        writer.write(parentCVersion)
        writer.write(ttl)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        data = try reader.readBuffer()
        acl = try reader.readVector(of: ACL.self)
        parentCVersion = try reader.readInt32()
        ttl = try reader.readInt64()
    }
}

/// A container node create transaction (`CreateContainerTxn`).
public struct CreateContainerTxn: Hashable, Sendable {
    public var path: String
    public var data: [UInt8]
    public var acl: [ACL]
    public var parentCVersion: Int32
    public init(path: String, data: [UInt8], acl: [ACL], parentCVersion: Int32) {
        self.path = path
        self.data = data
        self.acl = acl
        self.parentCVersion = parentCVersion
    }
}

extension CreateContainerTxn: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.writeBuffer(data)
        writer.writeVector(acl)
        writer.write(parentCVersion)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        data = try reader.readBuffer()
        acl = try reader.readVector(of: ACL.self)
        parentCVersion = try reader.readInt32()
    }
}

/// A delete transaction (`DeleteTxn`).
public struct DeleteTxn: Hashable, Sendable {
    public var path: String
    public init(path: String) {
        self.path = path
    }
}

extension DeleteTxn: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
    }
}

/// A set-data transaction (`SetDataTxn`).
public struct SetDataTxn: Hashable, Sendable {
    public var path: String
    public var data: [UInt8]
    public var version: Int32
    public init(path: String, data: [UInt8], version: Int32) {
        self.path = path
        self.data = data
        self.version = version
    }
}

extension SetDataTxn: JuteCodable {
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

/// A version check inside a multi transaction (`CheckVersionTxn`).
public struct CheckVersionTxn: Hashable, Sendable {
    public var path: String
    public var version: Int32
    public init(path: String, version: Int32) {
        self.path = path
        self.version = version
    }
}

extension CheckVersionTxn: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.write(version)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        version = try reader.readInt32()
    }
}

/// A set-ACL transaction (`SetACLTxn`).
public struct SetACLTxn: Hashable, Sendable {
    public var path: String
    public var acl: [ACL]
    public var version: Int32
    public init(path: String, acl: [ACL], version: Int32) {
        self.path = path
        self.acl = acl
        self.version = version
    }
}

extension SetACLTxn: JuteCodable {
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

/// Legacy (`SetMaxChildrenTxn`).
public struct SetMaxChildrenTxn: Hashable, Sendable {
    public var path: String
    public var max: Int32
    public init(path: String, max: Int32) {
        self.path = path
        self.max = max
    }
}

extension SetMaxChildrenTxn: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeString(path)
        writer.write(max)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        path = try reader.readString()
        max = try reader.readInt32()
    }
}

/// A session creation transaction (`CreateSessionTxn`).
public struct CreateSessionTxn: Hashable, Sendable {
    public var timeOut: Int32
    public init(timeOut: Int32) {
        self.timeOut = timeOut
    }
}

extension CreateSessionTxn: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(timeOut)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        timeOut = try reader.readInt32()
    }
}

/// A session close transaction, with the ephemerals to delete (`CloseSessionTxn`).
public struct CloseSessionTxn: Hashable, Sendable {
    public var paths2Delete: [String]
    public init(paths2Delete: [String]) {
        self.paths2Delete = paths2Delete
    }
}

extension CloseSessionTxn: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeStringVector(paths2Delete)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        paths2Delete = try reader.readStringVector()
    }
}

/// A failed op inside a multi transaction (`ErrorTxn`).
public struct ErrorTxn: Hashable, Sendable {
    public var err: Int32
    public init(err: Int32) {
        self.err = err
    }
}

extension ErrorTxn: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(err)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        err = try reader.readInt32()
    }
}

/// One op of a multi transaction (`Txn`): its type and its serialized transaction record.
public struct Txn: Hashable, Sendable {
    public var type: Int32
    public var data: [UInt8]
    public init(type: Int32, data: [UInt8]) {
        self.type = type
        self.data = data
    }
}

extension Txn: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(type)
        writer.writeBuffer(data)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        type = try reader.readInt32()
        data = try reader.readBuffer()
    }
}

/// A multi transaction (`MultiTxn`).
public struct MultiTxn: Hashable, Sendable {
    public var txns: [Txn]
    public init(txns: [Txn]) {
        self.txns = txns
    }
}

extension MultiTxn: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeVector(txns)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        txns = try reader.readVector(of: Txn.self)
    }
}
