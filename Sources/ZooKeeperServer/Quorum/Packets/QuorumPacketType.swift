import ZooKeeperProtocol

/// The learner channel's packet types (`Leader.java` constants).
enum QuorumPacketType: Int32, Sendable, CustomStringConvertible {
    case request = 1
    case proposal = 2
    case ack = 3
    case commit = 4
    case ping = 5
    case revalidate = 6
    case sync = 7
    case inform = 8
    case commitAndActivate = 9
    case newLeader = 10
    case followerInfo = 11
    case upToDate = 12
    case diff = 13
    case trunc = 14
    case snap = 15
    case observerInfo = 16
    case leaderInfo = 17
    case ackEpoch = 18
    case informAndActivate = 19

    var description: String {
        switch self {
        case .request: "REQUEST"
        case .proposal: "PROPOSAL"
        case .ack: "ACK"
        case .commit: "COMMIT"
        case .ping: "PING"
        case .revalidate: "REVALIDATE"
        case .sync: "SYNC"
        case .inform: "INFORM"
        case .commitAndActivate: "COMMITANDACTIVATE"
        case .newLeader: "NEWLEADER"
        case .followerInfo: "FOLLOWERINFO"
        case .upToDate: "UPTODATE"
        case .diff: "DIFF"
        case .trunc: "TRUNC"
        case .snap: "SNAP"
        case .observerInfo: "OBSERVERINFO"
        case .leaderInfo: "LEADERINFO"
        case .ackEpoch: "ACKEPOCH"
        case .informAndActivate: "INFORMANDACTIVATE"
        }
    }
}

/// Zxid arithmetic (`ZxidUtils`): the high 32 bits are the epoch, the low 32 the counter.
enum Zxid {
    static func make(epoch: Int64, counter: Int64) -> Int64 { epoch << 32 | (counter & 0xffff_ffff) }
    static func epoch(_ zxid: Int64) -> Int64 { zxid >> 32 }
    static func counter(_ zxid: Int64) -> Int64 { zxid & 0xffff_ffff }
    /// As Apache logs it (`Long.toHexString`: -1 is ffffffffffffffff).
    static func hex(_ zxid: Int64) -> String { "0x" + String(UInt64(bitPattern: zxid), radix: 16) }
}

extension QuorumPacket {
    /// The ZAB protocol version learners and leaders exchange (`0x10000`).
    static let protocolVersion: Int32 = 0x10000

    init(_ type: QuorumPacketType, zxid: Int64, data: [UInt8]? = nil) {
        self.init(type: type.rawValue, zxid: zxid, data: data, authinfo: nil)
    }

    var kind: QuorumPacketType? { QuorumPacketType(rawValue: type) }

    var summary: String {
        let name = kind?.description ?? "type \(type)"
        return "\(name) \(Zxid.hex(zxid))"
    }
}
