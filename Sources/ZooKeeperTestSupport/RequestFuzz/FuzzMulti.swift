import ZooKeeperProtocol

/// multi and multiRead bodies, well-formed and odd.
enum FuzzMulti {
    static func writeOp(_ random: inout FuzzRandom) -> MultiOperation {
        let path = FuzzVocabulary.fuzzPath(&random)
        let version: Int32 = random.chance(0.7) ? -1 : Int32(random.int(0...3))
        switch random.int(0...7) {
        case 0: return .create(CreateRequest(path: path, data: FuzzVocabulary.data(&random), acl: .openACLUnsafe, flags: Int32(random.int(0...3))))
        case 1: return .create2(CreateRequest(path: path, data: [], acl: FuzzVocabulary.validACL(&random), flags: 0))
        case 2: return .createContainer(CreateRequest(path: path, data: [], acl: .openACLUnsafe, flags: 4))
        case 3: return .createTTL(CreateTTLRequest(path: path, data: [], acl: .openACLUnsafe, flags: 5, ttl: 1_000))
        case 4, 5: return .delete(DeleteRequest(path: path, version: version))
        case 6: return .setData(SetDataRequest(path: path, data: FuzzVocabulary.data(&random), version: version))
        default: return .check(CheckVersionRequest(path: path, version: version))
        }
    }

    static func readOp(_ random: inout FuzzRandom) -> MultiOperation {
        let path = FuzzVocabulary.readPath(&random)
        return random.chance(0.5) ? .getData(GetDataRequest(path: path, watch: random.chance(0.2)))
            : .getChildren(GetChildrenRequest(path: path, watch: random.chance(0.2)))
    }

    /// An odd multi (opcode 14) or multiRead (22) request and the answers it may get.
    static func odd(_ random: inout FuzzRandom, xid: Int32) -> FuzzRequest {
        typealias E = FuzzErr
        let isRead = random.chance(0.3)
        let opCode = isRead ? OpCode.multiRead.rawValue : OpCode.multi.rawValue
        var body: [UInt8]
        // A decodable record is answered OK (per-op results) or refused as a whole (MARSHALLINGERROR).
        var errors: Set<Int32> = [E.ok, E.marshalling]
        switch random.int(0...9) {
        case 0:
            body = MultiOperationRecord(ops: []).juteBytes()  // empty
            errors = [E.ok]
        case 1:
            // Reads and writes mixed in one request.
            let ops = (0..<random.int(2...6)).map { _ in random.chance(0.5) ? writeOp(&random) : readOp(&random) }
            body = MultiOperationRecord(ops: ops).juteBytes()
        case 2:
            // An op type multi cannot carry: exists, sync, ping, setACL, an unknown type, or -1 without done.
            let type = random.pick([OpCode.exists.rawValue, 9, 11, 7, 99, -1, 0, Int32.max, Int32.min])
            body = header(type, done: false) + RawConnection.string(FuzzVocabulary.fuzzPath(&random)) + [0] + MultiHeader.multiEnd.juteBytes()
        case 3:
            // A multi nested in a multi (the nested one complete with its own end marker).
            let inner = MultiOperationRecord(ops: [writeOp(&random)]).juteBytes()
            body = header(random.pick([14, 22]), done: false) + inner + MultiHeader.multiEnd.juteBytes()
        case 4:
            // No end marker.
            let full = MultiOperationRecord(ops: (0..<random.int(1...3)).map { _ in writeOp(&random) }).juteBytes()
            body = Array(full.dropLast(9))
        case 5:
            // A header that names one op followed by another op's record.
            body = header(OpCode.create.rawValue, done: false) + DeleteRequest(path: FuzzVocabulary.fuzzPath(&random), version: -1).juteBytes()
                + MultiHeader.multiEnd.juteBytes()
        case 6:
            // Bytes after the end marker.
            body = MultiOperationRecord(ops: [writeOp(&random)]).juteBytes() + random.bytes(random.int(1...40))
        case 7:
            // Many ops (a large transaction).
            let ops = (0..<random.int(200...1_000)).map { _ in isRead ? readOp(&random) : writeOp(&random) }
            body = MultiOperationRecord(ops: ops).juteBytes()
        case 8:
            // Sub-ops on hostile paths: each must fail (a multi is refused as a whole or per op).
            body = header(isRead ? OpCode.getData.rawValue : OpCode.create.rawValue, done: false)
                + FuzzVocabulary.hostilePathBytes(&random)
                + (isRead ? [0] : RawConnection.int32(0) + ACLListBytes.open + RawConnection.int32(0))
                + MultiHeader.multiEnd.juteBytes()
        default:
            // Done flag set on a header that still carries an op, then more ops.
            body = header(OpCode.delete.rawValue, done: true) + MultiOperationRecord(ops: [writeOp(&random)]).juteBytes()
        }
        return FuzzRequest(xid: xid, opCode: opCode, body: body, errors: errors)
    }

    private static func header(_ type: Int32, done: Bool) -> [UInt8] {
        MultiHeader(type: type, done: done, err: -1).juteBytes()
    }
}

/// Prebuilt jute bytes of ACL vectors.
enum ACLListBytes {
    /// `[world:anyone ALL]` as a jute vector.
    static let open: [UInt8] = {
        var writer = JuteWriter()
        writer.writeVector([ACL].openACLUnsafe)
        return writer.bytes
    }()
}
