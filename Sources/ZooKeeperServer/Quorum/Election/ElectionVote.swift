import ZooKeeperProtocol

/// A vote as fast leader election keeps it (Apache's `Vote`), with Apache's order and equality.
struct ElectionVote: Sendable, Hashable, CustomStringConvertible {
    /// The proposed leader's sid.
    var leader: Int64
    /// The proposed leader's last logged zxid.
    var zxid: Int64
    /// The round the vote was cast in (-1 when unknown).
    var electionEpoch: Int64
    /// The proposed leader's current epoch.
    var peerEpoch: Int64
    var state: QuorumPeerState = .looking
    /// The notification format version the vote came in (0 for votes recorded by the LOOKING path).
    var version: Int32 = 0

    /// `Vote.equals`: LOOKING votes match on every field; votes of peers out of election match on the
    /// leader and its epoch only (their zxids legitimately differ after `updateElectionVote`), and on the
    /// leader alone across notification versions (ZOOKEEPER-1732).
    func matches(_ other: ElectionVote) -> Bool {
        if state == .looking || other.state == .looking {
            return leader == other.leader && zxid == other.zxid && electionEpoch == other.electionEpoch
                && peerEpoch == other.peerEpoch
        }
        if (version > 0) != (other.version > 0) { return leader == other.leader }
        return leader == other.leader && peerEpoch == other.peerEpoch
    }

    var description: String {
        "(leader \(leader), zxid 0x\(String(zxid, radix: 16)), round \(electionEpoch), epoch \(peerEpoch), \(state))"
    }
}

extension ElectionVote {
    /// `totalOrderPredicate`: whether a candidate `(leader, zxid, epoch)` beats the current one. A
    /// non-voter (weight 0) never wins; otherwise higher epoch, then higher zxid, then higher sid.
    static func beats(
        _ new: (leader: Int64, zxid: Int64, epoch: Int64),
        _ current: (leader: Int64, zxid: Int64, epoch: Int64),
        in configuration: QuorumConfiguration
    ) -> Bool {
        guard configuration.isVoter(new.leader) else { return false }
        if new.epoch != current.epoch { return new.epoch > current.epoch }
        if new.zxid != current.zxid { return new.zxid > current.zxid }
        return new.leader > current.leader
    }
}
