import ZooKeeperProtocol

/// One request of a case: its header fields, its record's bytes and the answers the server may give.
struct FuzzRequest {
    var xid: Int32
    var opCode: Int32
    var body: [UInt8]
    /// The `err` values a correct server may answer with (the tree is shared with other connections,
    /// so most requests allow every outcome their state can explain).
    var errors: Set<Int32>
    /// The server closes the connection after answering (refused opcodes, closeSession, auth failure).
    var closes = false

    /// The request as one frame: length, xid, type, record.
    var frame: [UInt8] {
        var writer = JuteWriter(capacity: body.count + 12)
        writer.write(Int32(truncatingIfNeeded: body.count + 8))
        writer.write(xid)
        writer.write(opCode)
        writer.writeRaw(body)
        return writer.bytes
    }

    /// A ping is answered under the ping xid whatever xid it came with (Apache's `FinalRequestProcessor`).
    var expected: FuzzExpectedFrame {
        .reply(xid: opCode == OpCode.ping.rawValue ? ReservedXid.ping : xid, errors: errors,
               request: "\(OpCode(rawValue: opCode)) \(Self.describe(body))")
    }

    /// The start of a record, readable: its first string (the path, for most requests) or its first bytes.
    static func describe(_ body: [UInt8]) -> String {
        if body.count >= 4 {
            let length = Int(body[0]) << 24 | Int(body[1]) << 16 | Int(body[2]) << 8 | Int(body[3])
            if length >= 0 && length <= 64 && body.count >= 4 + length {
                return String(reflecting: String(decoding: body[4..<(4 + length)], as: UTF8.self))
            }
        }
        return body.prefix(16).map { String($0, radix: 16) }.joined(separator: " ") + (body.count > 16 ? " … (\(body.count) bytes)" : "")
    }
}

/// Shorthands for the error codes the expectations name.
enum FuzzErr {
    static let ok = ZooKeeperErrorCode.ok.rawValue
    static let marshalling = ZooKeeperErrorCode.marshallingError.rawValue
    static let unimplemented = ZooKeeperErrorCode.unimplemented.rawValue
    static let badArguments = ZooKeeperErrorCode.badArguments.rawValue
    static let noNode = ZooKeeperErrorCode.noNode.rawValue
    static let noAuth = ZooKeeperErrorCode.noAuth.rawValue
    static let badVersion = ZooKeeperErrorCode.badVersion.rawValue
    static let noChildrenForEphemerals = ZooKeeperErrorCode.noChildrenForEphemerals.rawValue
    static let nodeExists = ZooKeeperErrorCode.nodeExists.rawValue
    static let notEmpty = ZooKeeperErrorCode.notEmpty.rawValue
    static let invalidACL = ZooKeeperErrorCode.invalidACL.rawValue
    static let authFailed = ZooKeeperErrorCode.authFailed.rawValue
    static let noWatcher = ZooKeeperErrorCode.noWatcher.rawValue
    static let reconfigDisabled = ZooKeeperErrorCode.reconfigDisabled.rawValue

    /// What a create on a valid path may answer, whatever the tree holds.
    static let create: Set<Int32> = [ok, nodeExists, noNode, noChildrenForEphemerals, noAuth, invalidACL, unimplemented, badArguments]
    static let read: Set<Int32> = [ok, noNode, noAuth]
    /// Any error but success: for requests that must fail (hostile paths and ACLs).
    static let anyFailure: Set<Int32> = Set((-130)...(-1)).union([-1000, -1001, -1002, -1003])
    /// Every code the server may use.
    static let any: Set<Int32> = anyFailure.union([ok])
}
