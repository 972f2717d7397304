// The election channel's two messages (Apache's `QuorumCnxManager.InitialMessage` and
// `FastLeaderElection`'s notification). Neither is a jute record: both are hand-laid ByteBuffers in
// Apache, so they are encoded here field by field with the same big-endian layout.

/// A quorum peer's state as it travels in election notifications (`QuorumPeer.ServerState`, in wire order).
public enum QuorumPeerState: Int32, Sendable, Hashable, CustomStringConvertible {
    case looking = 0
    case following = 1
    case leading = 2
    case observing = 3

    public var description: String {
        switch self {
        case .looking: "LOOKING"
        case .following: "FOLLOWING"
        case .leading: "LEADING"
        case .observing: "OBSERVING"
        }
    }
}

/// The first bytes a peer writes on an election connection it opened: who it is and where it listens.
public struct ElectionInitialMessage: Sendable, Hashable {
    /// `PROTOCOL_VERSION_V1`: one election address follows.
    public static let protocolVersion1: Int64 = -65536
    /// `PROTOCOL_VERSION_V2`: `|`-separated addresses follow (sent only with `multiAddress.enabled`).
    public static let protocolVersion2: Int64 = -65535
    /// Apache's bound on the address field (`maxBuffer`).
    public static let maxAddressLength = 2048

    public var sid: Int64
    /// The sender's election addresses as `host:port` (IPv6 as `[addr]:port`); empty for a pre-3.5 peer.
    public var addresses: [String]

    public init(sid: Int64, addresses: [String]) {
        self.sid = sid
        self.addresses = addresses
    }

    /// The V1 form Apache 3.8 sends by default.
    public func encoded() -> [UInt8] {
        var writer = JuteWriter()
        writer.write(Self.protocolVersion1)
        writer.write(sid)
        let address = Array(addresses.joined(separator: "|").utf8)
        writer.write(Int32(address.count))
        writer.writeRaw(address)
        return writer.bytes
    }

    /// What decoding a prefix of an inbound connection's bytes gave.
    public enum Decoded: Sendable, Hashable {
        /// More bytes are needed.
        case needMore
        /// A complete message, `length` bytes long.
        case message(ElectionInitialMessage, length: Int)
    }

    /// Decodes the initial message from the start of `bytes`, as `QuorumCnxManager.handleConnection` does:
    /// a non-negative first long is a bare sid (an old peer, no address), V1/V2 carry an address field of
    /// 1…2048 bytes, anything else is refused.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(JuteDecodingError) -> Decoded {
        var reader = JuteReader(bytes)
        guard reader.remaining >= 8 else { return .needMore }
        let first = try reader.readInt64()
        if first >= 0 { return .message(ElectionInitialMessage(sid: first, addresses: []), length: 8) }
        guard first == protocolVersion1 || first == protocolVersion2 else {
            throw .invalidValue(field: "election protocol version", value: first)
        }
        guard reader.remaining >= 12 else { return .needMore }
        let sid = try reader.readInt64()
        let length = try reader.readInt32()
        guard length > 0, Int(length) <= maxAddressLength else {
            throw .invalidValue(field: "election address length", value: Int64(length))
        }
        guard reader.remaining >= Int(length) else { return .needMore }
        let raw = try reader.readRaw(count: Int(length))
        guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidUTF8 }
        let addresses = text.split(separator: "|").map(String.init)
        return .message(ElectionInitialMessage(sid: sid, addresses: addresses), length: 20 + Int(length))
    }
}

/// A fast-leader-election notification: the sender's state and the vote it currently proposes.
///
/// Layout (all big-endian): `int state, long leader, long zxid, long electionEpoch, long peerEpoch,
/// int version, int configLength, config bytes`. Apache 3.8 sends version 2 with the sender's
/// `QuorumVerifier` string; receivers also accept the legacy 28-byte (no peerEpoch) and 40-byte
/// (no version) forms.
public struct ElectionNotification: Sendable, Hashable {
    /// `Notification.CURRENTVERSION`.
    public static let currentVersion: Int32 = 2
    /// Apache's frame bound on the election channel (`PACKETMAXSIZE`).
    public static let maxFrameLength = 512 * 1024

    public var state: QuorumPeerState
    /// The proposed leader's sid.
    public var leader: Int64
    /// The proposed leader's last logged zxid.
    public var zxid: Int64
    /// The sender's logical clock (election round).
    public var electionEpoch: Int64
    /// The proposed leader's current epoch.
    public var peerEpoch: Int64
    public var version: Int32
    /// The sender's configuration (`QuorumVerifier.toString()`), UTF-8; nil in the legacy forms.
    public var config: [UInt8]?

    public init(
        state: QuorumPeerState, leader: Int64, zxid: Int64, electionEpoch: Int64, peerEpoch: Int64,
        version: Int32 = ElectionNotification.currentVersion, config: [UInt8]?
    ) {
        self.state = state
        self.leader = leader
        self.zxid = zxid
        self.electionEpoch = electionEpoch
        self.peerEpoch = peerEpoch
        self.version = version
        self.config = config
    }

    /// The payload (without the channel's int length prefix).
    public func encoded() -> [UInt8] {
        var writer = JuteWriter(capacity: 44 + (config?.count ?? 0))
        writer.write(state.rawValue)
        writer.write(leader)
        writer.write(zxid)
        writer.write(electionEpoch)
        writer.write(peerEpoch)
        writer.write(version)
        let config = config ?? []
        writer.write(Int32(config.count))
        writer.writeRaw(config)
        return writer.bytes
    }

    /// Why a payload was dropped, as `FastLeaderElection.WorkerReceiver` drops it.
    public enum DecodingFailure: Error, Sendable, Hashable {
        /// Under 28 bytes.
        case tooShort(Int)
        /// A state outside 0…3.
        case unknownState(Int32)
        /// Truncated fields or a config length outside 0…payload size.
        case malformed
    }

    /// Decodes one payload. Sizes 28 and 40 are the legacy forms; config bytes are read for version > 1.
    public static func decode(_ payload: [UInt8]) throws(DecodingFailure) -> ElectionNotification {
        guard payload.count >= 28 else { throw .tooShort(payload.count) }
        let fields: (state: Int32, leader: Int64, zxid: Int64, round: Int64, epoch: Int64, version: Int32, config: [UInt8]?)
        do {
            fields = try readFields(payload)
        } catch {
            throw .malformed
        }
        guard let state = QuorumPeerState(rawValue: fields.state) else { throw .unknownState(fields.state) }
        return ElectionNotification(
            state: state, leader: fields.leader, zxid: fields.zxid, electionEpoch: fields.round,
            peerEpoch: fields.epoch, version: fields.version, config: fields.config)
    }

    private static func readFields(
        _ payload: [UInt8]
    ) throws(JuteDecodingError) -> (state: Int32, leader: Int64, zxid: Int64, round: Int64, epoch: Int64, version: Int32, config: [UInt8]?) {
        var reader = JuteReader(payload, maxLength: maxFrameLength)
        let state = try reader.readInt32()
        let leader = try reader.readInt64()
        let zxid = try reader.readInt64()
        let round = try reader.readInt64()
        var epoch = zxid >> 32
        var version: Int32 = 0
        var config: [UInt8]?
        if payload.count != 28 {
            epoch = try reader.readInt64()
            if payload.count != 40 { version = try reader.readInt32() }
        }
        if version > 1 {
            let length = try reader.readInt32()
            guard length >= 0, Int(length) <= payload.count else {
                throw .invalidValue(field: "configLength", value: Int64(length))
            }
            config = try reader.readRaw(count: Int(length))
        }
        return (state, leader, zxid, round, epoch, version, config)
    }

    /// The config string, if it is valid UTF-8.
    public var configText: String? { config.flatMap { String(validating: $0, as: UTF8.self) } }
}
