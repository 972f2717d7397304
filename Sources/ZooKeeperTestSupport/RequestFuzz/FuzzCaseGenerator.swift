import ZooKeeperProtocol

/// The fuzzer's case generator: a pure function of (seed, index), so that a failing case is rebuilt
/// exactly from the two numbers a report prints. No I/O, no clock, no shared state.
public enum FuzzCaseGenerator {
    /// The session timeout every generated handshake asks for (the server clamps it to its bounds).
    public static let sessionTimeoutMilliseconds: Int32 = 3_000

    /// Each family's share of the cases.
    static let weights: [(FuzzFamily, Int)] = [
        (.wellFormed, 24), (.fragmented, 5), (.hostilePaths, 8), (.hostileACLs, 6), (.oddMulti, 8), (.auth, 5),
        (.unknownOpcodes, 6), (.hostileXids, 4), (.connectVariants, 5), (.lengthPrefixes, 5), (.halfWritten, 6),
        (.mutated, 12), (.garbage, 4), (.fourLetterWords, 2), (.oversized, 1), (.quotas, 3),
    ]

    /// Case `index` of the run seeded with `seed`.
    public static func makeCase(seed: UInt64, index: UInt64) -> FuzzCase {
        var random = FuzzRandom(seed: seed, index: index)
        let family = weights[random.weighted(weights.map(\.1))].0
        let (chunks, expectation) = make(family, &random)
        return FuzzCase(seed: seed, index: index, family: family, chunks: chunks, expectation: expectation)
    }

    /// A ConnectRequest frame for a new session.
    static var handshake: [UInt8] { frame(RawConnection.connectRequest(timeoutMilliseconds: sessionTimeoutMilliseconds)) }

    static func frame(_ payload: [UInt8]) -> [UInt8] { RawConnection.int32(Int32(payload.count)) + payload }

    /// A ping under the ping xid: proves the connection is still served after the case's requests.
    static var ping: FuzzRequest { FuzzRequest(xid: ReservedXid.ping, opCode: OpCode.ping.rawValue, body: [], errors: [FuzzErr.ok]) }

    /// The handshake, `requests` pipelined, and a final ping unless the last request closes the connection.
    static func session(_ requests: [FuzzRequest]) -> ([[UInt8]], FuzzExpectation) {
        let closes = requests.last?.closes ?? false
        let all = closes ? requests : requests + [ping]
        let bytes = handshake + all.flatMap(\.frame)
        return ([bytes], .frames([.connectResponse] + all.map(\.expected), thenClosed: closes))
    }

    private static func make(_ family: FuzzFamily, _ random: inout FuzzRandom) -> ([[UInt8]], FuzzExpectation) {
        switch family {
        case .wellFormed: return wellFormed(&random)
        case .fragmented:
            let (chunks, expectation) = wellFormed(&random)
            return (FuzzMutations.fragments(chunks.flatMap { $0 }, &random), expectation)
        case .hostilePaths: return session((1...random.int(1...4)).map { xid in FuzzHostileRequests.path(&random, xid: Int32(xid)) })
        case .hostileACLs: return hostileACLs(&random)
        case .oddMulti: return session([FuzzMulti.odd(&random, xid: 1)])
        case .auth: return FuzzHostileRequests.auth(&random)
        case .unknownOpcodes: return unknownOpcode(&random)
        case .hostileXids: return FuzzHostileRequests.xids(&random)
        case .connectVariants: return FuzzConnectVariants.make(&random)
        case .lengthPrefixes: return FuzzFraming.lengthPrefix(&random)
        case .halfWritten: return FuzzFraming.halfWritten(&random)
        case .mutated:
            let requests = (1...random.int(1...4)).map { xid in FuzzRequests.opening(&random, xid: Int32(xid)) }
            let stream = FuzzMutations.mutate(requests.flatMap(\.frame), &random)
            let head = random.chance(0.85) ? handshake : FuzzMutations.mutate(handshake, &random)
            return ([head + stream], .closesAfterEOF)
        case .garbage:
            let head = random.chance(0.5) ? handshake : []
            return ([head + random.bytes(random.int(1...2_000))], .closesAfterEOF)
        case .fourLetterWords: return FuzzFraming.fourLetterWord(&random)
        case .oversized: return FuzzFraming.oversized(&random)
        case .quotas: return FuzzQuotas.session(&random)
        }
    }

    private static func wellFormed(_ random: inout FuzzRandom) -> ([[UInt8]], FuzzExpectation) {
        var requests = (1...random.int(1...8)).map { xid in FuzzRequests.opening(&random, xid: Int32(xid)) }
        if random.chance(0.25) {
            // End the session (or be refused) instead of pinging: closing ops are always last.
            let op = random.chance(0.6) ? OpCode.closeSession : random.pick(FuzzRequests.closingOps)
            requests.append(FuzzRequests.request(op, &random, xid: Int32(requests.count + 1)))
        }
        return session(requests)
    }

    private static func hostileACLs(_ random: inout FuzzRandom) -> ([[UInt8]], FuzzExpectation) {
        var requests: [FuzzRequest] = []
        if random.chance(0.5) { requests.append(FuzzRequests.request(.auth, &random, xid: 0)) }
        for xid in 1...random.int(1...3) {
            let path = FuzzVocabulary.fuzzPath(&random)
            let acl = FuzzVocabulary.hostileACL(&random)
            // INVALIDACL comes before any check of the tree (Apache's fixupACL runs before getRecordForPath).
            if random.chance(0.5) {
                let record = CreateRequest(path: path, data: [], acl: acl, flags: Int32(random.int(0...1)))
                requests.append(FuzzRequest(xid: Int32(xid), opCode: OpCode.create.rawValue, body: record.juteBytes(), errors: [FuzzErr.invalidACL]))
            } else {
                let record = SetACLRequest(path: path, acl: acl, version: -1)
                requests.append(FuzzRequest(xid: Int32(xid), opCode: OpCode.setACL.rawValue, body: record.juteBytes(), errors: [FuzzErr.invalidACL]))
            }
        }
        return session(requests)
    }

    private static func unknownOpcode(_ random: inout FuzzRandom) -> ([[UInt8]], FuzzExpectation) {
        var requests = (0..<random.int(0...3)).map { xid in FuzzRequests.opening(&random, xid: Int32(xid + 1)) }
        let unknown: [Int32] = [10, 23, 50, 99, 108, 200, 1_000, -2, -3, -9, -12, -100, Int32.max, Int32.min]
        let opCode = random.chance(0.6) ? random.pick(unknown) : random.pick(FuzzRequests.closingOps).rawValue
        requests.append(FuzzRequests.request(OpCode(rawValue: opCode), &random, xid: Int32(requests.count + 1)))
        return session(requests)
    }
}
