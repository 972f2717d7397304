import ZooKeeperProtocol

/// Quota nodes with hostile contents: `/zookeeper/quota` is world-writable (as in Apache), and every
/// write under a quota'd path updates its `zookeeper_stats` text, so the server parses what clients wrote.
enum FuzzQuotas {
    /// StatsTrack texts a parser and the counters' arithmetic must survive.
    static let texts: [String] = [
        "count=9223372036854775807,bytes=9223372036854775807", "count=-9223372036854775808,bytes=-9223372036854775808",
        "count=99999999999999999999,bytes=1", "count=,bytes=", "=", ",,,;;;", "count=1=2=3", "count=abc,bytes=0x10",
        "", "count=-1,bytes=-1=;byteHardLimit=0;countHardLimit=0", "countHardLimit=-9223372036854775808",
        "count=1,bytes=-1=;countHardLimit=9223372036854775807",
    ]

    /// A session that builds quota nodes for a path of the fuzz subtree, writes hostile texts into them
    /// and then changes nodes below that path.
    static func session(_ random: inout FuzzRandom) -> ([[UInt8]], FuzzExpectation) {
        let target = FuzzVocabulary.fuzzPath(&random)
        var quotaPath = "/zookeeper/quota"
        var requests: [FuzzRequest] = []
        // Whatever the tree holds, none of these may be anything but one of these answers.
        let answers: Set<Int32> = [FuzzErr.ok, FuzzErr.nodeExists, FuzzErr.noNode, FuzzErr.notEmpty, FuzzErr.badVersion,
                                   FuzzErr.noAuth, FuzzErr.noChildrenForEphemerals, ZooKeeperErrorCode.quotaExceeded.rawValue]
        func add(_ op: OpCode, _ record: some JuteEncodable) {
            requests.append(FuzzRequest(xid: Int32(requests.count + 1), opCode: op.rawValue, body: record.juteBytes(), errors: answers))
        }
        for component in target.split(separator: "/") {
            quotaPath += "/" + component
            add(.create, CreateRequest(path: quotaPath, data: [], acl: .openACLUnsafe, flags: 0))
        }
        for _ in 0..<random.int(1...4) {
            let node = quotaPath + "/" + random.pick(["zookeeper_limits", "zookeeper_stats"])
            let text = Array(random.pick(texts).utf8)
            if random.chance(0.5) {
                add(.create, CreateRequest(path: node, data: text, acl: .openACLUnsafe, flags: 0))
            } else {
                add(.setData, SetDataRequest(path: node, data: text, version: -1))
            }
        }
        for _ in 0..<random.int(1...4) {
            let path = target + "/" + random.pick(["a", "b", "c"])
            switch random.int(0...2) {
            case 0: add(.create, CreateRequest(path: path, data: FuzzVocabulary.data(&random), acl: .openACLUnsafe, flags: Int32(random.int(0...1))))
            case 1: add(.setData, SetDataRequest(path: path, data: FuzzVocabulary.data(&random), version: -1))
            default: add(.delete, DeleteRequest(path: path, version: -1))
            }
        }
        if random.chance(0.3) {
            add(.delete, DeleteRequest(path: quotaPath + "/" + random.pick(["zookeeper_limits", "zookeeper_stats"]), version: -1))
        }
        return FuzzCaseGenerator.session(requests)
    }
}
