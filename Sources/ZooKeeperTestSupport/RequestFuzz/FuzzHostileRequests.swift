import ZooKeeperProtocol

/// Requests with hostile paths, auth packets and reserved xids.
enum FuzzHostileRequests {
    /// A request on a hostile path: writes must fail; reads and watch calls may answer anything,
    /// but the connection stays served.
    static func path(_ random: inout FuzzRandom, xid: Int32) -> FuzzRequest {
        let path = FuzzVocabulary.hostilePathBytes(&random)
        let watch: [UInt8] = [random.chance(0.5) ? 1 : 0]
        let version = RawConnection.int32(-1)
        let data = RawConnection.int32(2) + [0x68, 0x69]
        let writes: [(OpCode, [UInt8])] = [
            (.create, path + data + ACLListBytes.open + RawConnection.int32(Int32(random.int(0...1)))),
            (.create2, path + data + ACLListBytes.open + RawConnection.int32(0)),
            (.createContainer, path + data + ACLListBytes.open + RawConnection.int32(4)),
            (.delete, path + version),
            (.setData, path + data + version),
            (.setACL, path + ACLListBytes.open + version),
        ]
        let reads: [(OpCode, [UInt8])] = [
            (.exists, path + watch), (.getData, path + watch), (.getChildren, path + watch),
            (.getChildren2, path + watch), (.getACL, path), (.getAllChildrenNumber, path), (.sync, path),
            (.checkWatches, path + RawConnection.int32(Int32(random.int(1...3)))),
            (.removeWatches, path + RawConnection.int32(Int32(random.int(1...3)))),
            (.addWatch, path + RawConnection.int32(Int32(random.int(0...1)))),
            (.getEphemerals, path),
            (.setWatches, RawConnection.int64(0) + RawConnection.int32(1) + path + RawConnection.int32(1) + path + RawConnection.int32(1) + path),
        ]
        if random.chance(0.5) {
            let (op, body) = random.pick(writes)
            return FuzzRequest(xid: xid, opCode: op.rawValue, body: body, errors: FuzzErr.anyFailure)
        }
        let (op, body) = random.pick(reads)
        return FuzzRequest(xid: xid, opCode: op.rawValue, body: body, errors: FuzzErr.any)
    }

    /// Auth packets: digest with odd credentials and ip are accepted; an unknown scheme is refused with
    /// AUTHFAILED and the connection closes; a malformed packet ends the connection.
    static func auth(_ random: inout FuzzRandom) -> ([[UInt8]], FuzzExpectation) {
        var requests: [FuzzRequest] = []
        for _ in 0..<random.int(1...3) {
            let credential: [UInt8] = switch random.int(0...4) {
            case 0: []
            case 1: random.bytes(random.int(1...64))  // not UTF-8
            case 2: Array(String(repeating: "u", count: 10_000).utf8) + [0x3A, 0x70]
            default: Array(random.pick(FuzzVocabulary.credentials).utf8)
            }
            let scheme = random.chance(0.8) ? "digest" : "ip"
            let packet = AuthPacket(type: Int32(random.int(-1...1)), scheme: scheme, auth: credential)
            requests.append(FuzzRequest(xid: ReservedXid.auth, opCode: OpCode.auth.rawValue, body: packet.juteBytes(), errors: [FuzzErr.ok]))
        }
        requests.append(FuzzRequest(xid: 1, opCode: OpCode.whoAmI.rawValue, body: [], errors: [FuzzErr.ok]))
        switch random.int(0...3) {
        case 0:
            let scheme = random.pick(["foo", "", "super", "sasl", "world", "x509", "DIGEST"])
            let packet = AuthPacket(type: 0, scheme: scheme, auth: Array("a:b".utf8))
            requests.append(FuzzRequest(xid: ReservedXid.auth, opCode: OpCode.auth.rawValue, body: packet.juteBytes(),
                                        errors: [FuzzErr.authFailed], closes: true))
        case 1:
            // A truncated auth packet: nothing to answer, the connection ends.
            let bytes = FuzzCaseGenerator.handshake + requests.flatMap(\.frame)
                + FuzzCaseGenerator.frame(RawConnection.int32(ReservedXid.auth) + RawConnection.int32(100) + RawConnection.int32(0) + RawConnection.int32(50))
            return ([bytes], .closesAfterEOF)
        default: break
        }
        return FuzzCaseGenerator.session(requests)
    }

    /// Ordinary requests under reserved or extreme xids.
    static func xids(_ random: inout FuzzRandom) -> ([[UInt8]], FuzzExpectation) {
        var request = FuzzRequests.opening(&random, xid: 1)
        let xid = random.pick([0, Int32.max, Int32.min, -8, -3, -1_000, -2, -1, -4])
        if xid == -1 {
            // The notification xid: the reply cannot be told apart from a watch event.
            request.xid = xid
            return ([FuzzCaseGenerator.handshake + request.frame], .closesAfterEOF)
        }
        // Any other, the ping's (-2) and auth's (-4) included: the request is what its type says — Apache
        // decides pings and auth packets by type, not xid (a create sent with xid -2 creates) — and is
        // answered under its own xid.
        request.xid = xid
        return FuzzCaseGenerator.session([request])
    }
}
