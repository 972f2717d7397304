import Testing
import ZooKeeperProtocol

/// Truncated, negative, oversized and malformed input must throw ``JuteDecodingError``, never trap.
@Suite struct HostileInputTests {
    /// Checks that every strict prefix of `value`'s encoding fails to decode.
    func expectEveryPrefixFails<T: JuteCodable & Equatable>(_ value: T, allowing allowed: Set<Int> = []) {
        let full = value.juteBytes()
        for length in 0..<full.count where !allowed.contains(length) {
            if case .success = decodeOutcome(T.self, Array(full.prefix(length))) {
                Issue.record("\(T.self): prefix of \(length)/\(full.count) bytes decoded")
            }
        }
        #expect(decodeOutcome(T.self, full) == .success(value))
    }

    @Test func truncatedRecordsThrow() {
        let v = JavaValues.self
        // Without its last byte a ConnectRequest is a valid "old client" request (readOnly = false).
        let connect = v.connect.juteBytes().count
        expectEveryPrefixFails(v.connect, allowing: [connect - 1])
        expectEveryPrefixFails(v.connected, allowing: [v.connected.juteBytes().count - 1])
        expectEveryPrefixFails(CreateRequest(path: v.uni, data: v.data, acl: v.acls, flags: 3))
        expectEveryPrefixFails(GetDataResponse(data: v.data, stat: v.stat))
        expectEveryPrefixFails(GetACLResponse(acl: v.acls, stat: v.stat))
        expectEveryPrefixFails(WhoAmIResponse(clientInfo: v.whoAmI))
        expectEveryPrefixFails(
            SetWatches2(
                relativeZxid: 5, dataWatches: ["/a"], existWatches: ["/b", "/c"], childWatches: [],
                persistentWatches: [v.uni], persistentRecursiveWatches: ["/r"]))
        expectEveryPrefixFails(MultiTxn(txns: [Txn(type: 1, data: v.data), Txn(type: 2, data: [])]))
        expectEveryPrefixFails(
            QuorumPacket(type: 2, zxid: 9, data: v.data, authinfo: [Id(scheme: "ip", id: "10.0.0.1")]))
        expectEveryPrefixFails(
            MultiOperationRecord(ops: [
                .create2(CreateRequest(path: "/a", data: v.data, acl: v.acls, flags: 0)),
                .check(CheckVersionRequest(path: "/a", version: 1)),
                .delete(DeleteRequest(path: "/a", version: -1)),
            ]))
        expectEveryPrefixFails(
            MultiResponse(results: [
                .create2(Create2Response(path: "/a", stat: v.stat), opCode: .create2), .check, .delete,
                .error(.noNode), .getData(GetDataResponse(data: v.data, stat: v.stat)),
            ]))
    }

    @Test(arguments: [Int32(-2), -5, .min])
    func negativeLengthsThrow(length: Int32) {
        var writer = JuteWriter()
        writer.write(length)
        writer.writeRaw([UInt8](repeating: 0x41, count: 16))
        let bytes = writer.bytes
        var reader = JuteReader(bytes)
        #expect(throws: JuteDecodingError.negativeLength(length)) { try reader.readBuffer() }
        reader = JuteReader(bytes)
        #expect(throws: JuteDecodingError.negativeLength(length)) { try reader.readString() }
        reader = JuteReader(bytes)
        #expect(throws: JuteDecodingError.negativeLength(length)) { try reader.readVector(of: Id.self) }
        reader = JuteReader(bytes)
        #expect(throws: JuteDecodingError.negativeLength(length)) { try reader.readStringVector() }
    }

    @Test func nullReadsAsEmpty() throws {
        let minusOne = h("ffffffff")
        var reader = JuteReader(minusOne + minusOne + minusOne + minusOne)
        #expect(try reader.readBuffer() == [])
        #expect(try reader.readString() == "")
        #expect(try reader.readVector(of: ACL.self) == [])
        #expect(try reader.readStringVector() == [])
        reader = JuteReader(minusOne)
        #expect(try reader.readOptionalBuffer() == nil)
    }

    @Test(arguments: [Int32(0x10_0000), 0x7fff_ffff])
    func hugeLengthsThrow(length: Int32) {
        var writer = JuteWriter()
        writer.write(length)
        let bytes = writer.bytes
        let limit = JuteDecodingError.lengthLimitExceeded(length: Int(length), limit: 0xfffff)
        var reader = JuteReader(bytes)
        #expect(throws: limit) { try reader.readBuffer() }
        reader = JuteReader(bytes)
        #expect(throws: limit) { try reader.readString() }
        reader = JuteReader(bytes)
        #expect(throws: limit) { try reader.readVector(of: Stat.self) }
        reader = JuteReader(bytes)
        #expect(throws: limit) { try reader.readStringVector() }
    }

    @Test func customMaxLengthApplies() {
        let bytes = GetDataResponse(data: [UInt8](repeating: 1, count: 100), stat: Stat()).juteBytes()
        #expect(throws: JuteDecodingError.lengthLimitExceeded(length: 100, limit: 99)) {
            try GetDataResponse(juteBytes: bytes, maxLength: 99)
        }
        #expect(throws: Never.self) { try GetDataResponse(juteBytes: bytes, maxLength: 100) }
    }

    @Test("CESU-8 surrogate pairs (what Java's jute writes) read as the character meant")
    func cesu8SurrogatePairs() throws {
        let raw = h("41eda0bdedb88042")  // "A😀B" with the emoji as two 3-byte surrogates
        var writer = JuteWriter()
        writer.write(Int32(raw.count))
        writer.writeRaw(raw)
        #expect(try SyncResponse(juteBytes: writer.bytes).path == "A😀B")
    }

    @Test(arguments: ["ff", "c0af", "80", "e282", "eda080", "edb880", "eda0bd41", "f4908080", "fe"])
    func invalidUTF8Throws(payload: String) {
        let raw = h(payload)
        var writer = JuteWriter()
        writer.write(Int32(raw.count))
        writer.writeRaw(raw)
        #expect(throws: JuteDecodingError.invalidUTF8) { try SyncResponse(juteBytes: writer.bytes) }
    }

    @Test func vectorCountsLargerThanInputThrowBeforeAllocating() {
        // 1 000 000 > maxLength, 1000 elements with 8 bytes left, 0xfffff strings with 12 bytes left.
        #expect(throws: JuteDecodingError.self) { try GetACLResponse(juteBytes: h("000f4240") + [UInt8](repeating: 0, count: 80)) }
        #expect(throws: JuteDecodingError.truncated(needed: 1000, available: 8)) {
            try WhoAmIResponse(juteBytes: h("000003e8 0000000000000000"))
        }
        #expect(throws: JuteDecodingError.self) { try GetChildrenResponse(juteBytes: h("000fffff 000000000000000000000000")) }
        #expect(throws: JuteDecodingError.self) { try MultiTxn(juteBytes: h("00000002 00000001 00000000")) }
    }

    @Test func trailingBytesAreRejected() {
        #expect(throws: JuteDecodingError.trailingBytes(1)) { try ErrorResponse(juteBytes: h("ffffff9b 00")) }
        // ConnectRequest takes only one optional byte.
        let connect = JavaValues.connect.juteBytes()
        #expect(throws: JuteDecodingError.trailingBytes(1)) { try ConnectRequest(juteBytes: connect + [0]) }
    }

    @Test func multiWithUnknownTypesThrows() {
        let end = MultiHeader.multiEnd.juteBytes()
        let unknown = MultiHeader(type: 99, done: false, err: -1).juteBytes()
        #expect(throws: JuteDecodingError.invalidValue(field: "MultiHeader.type", value: 99)) {
            try MultiResponse(juteBytes: unknown + end)
        }
        #expect(throws: JuteDecodingError.invalidValue(field: "MultiHeader.type", value: 99)) {
            try MultiOperationRecord(juteBytes: unknown + end)
        }
        // -1 (error) is a result type, never an op type; ping is neither.
        let error = MultiHeader(type: -1, done: false, err: -1).juteBytes() + ErrorResponse(err: -101).juteBytes()
        #expect(throws: JuteDecodingError.invalidValue(field: "MultiHeader.type", value: -1)) {
            try MultiOperationRecord(juteBytes: error + end)
        }
        let ping = MultiHeader(type: 11, done: false, err: 0).juteBytes()
        #expect(throws: JuteDecodingError.self) { try MultiResponse(juteBytes: ping + end) }
    }

    @Test func multiWithoutEndMarkerThrows() {
        let delete = MultiHeader(type: 2, done: false, err: 0).juteBytes()
        #expect(throws: JuteDecodingError.truncated(needed: 4, available: 0)) {
            try MultiResponse(juteBytes: delete + delete + delete)
        }
        #expect(throws: JuteDecodingError.self) { try MultiResponse(juteBytes: []) }
    }
}
