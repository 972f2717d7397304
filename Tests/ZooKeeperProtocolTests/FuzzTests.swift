import Testing
import ZooKeeperProtocol

/// Bounded, seeded fuzzing: decoding mutated or random bytes may only throw JuteDecodingError or succeed.
/// A trap or a hang fails the run. Successful decodes must re-encode to bytes that decode to the same value.
@Suite struct FuzzTests {
    /// Decodes `bytes` as `T`; on success checks that encode → decode is stable. Returns whether it decoded.
    static func probe<T: JuteCodable & Equatable>(_ type: T.Type, _ bytes: [UInt8]) -> Bool {
        guard case let .success(value) = decodeOutcome(T.self, bytes) else { return false }
        let again = decodeOutcome(T.self, value.juteBytes())
        if case let .success(reparsed) = again, reparsed == value { return true }
        Issue.record("\(T.self) did not round-trip after decoding \(hex(bytes))")
        return true
    }

    /// Every reply body a client decodes, and the multi bodies, plus the records a server decodes.
    static let decoders: [@Sendable ([UInt8]) -> Bool] = [
        { probe(ConnectResponse.self, $0) }, { probe(ConnectRequest.self, $0) }, { probe(ReplyHeader.self, $0) },
        { probe(WatcherEvent.self, $0) }, { probe(ErrorResponse.self, $0) }, { probe(CreateResponse.self, $0) },
        { probe(Create2Response.self, $0) }, { probe(ExistsResponse.self, $0) }, { probe(GetDataResponse.self, $0) },
        { probe(SetDataResponse.self, $0) }, { probe(GetACLResponse.self, $0) }, { probe(SetACLResponse.self, $0) },
        { probe(GetChildrenResponse.self, $0) }, { probe(GetChildren2Response.self, $0) },
        { probe(SyncResponse.self, $0) }, { probe(SetSASLResponse.self, $0) },
        { probe(GetEphemeralsResponse.self, $0) }, { probe(GetAllChildrenNumberResponse.self, $0) },
        { probe(WhoAmIResponse.self, $0) }, { probe(GetMaxChildrenResponse.self, $0) },
        { probe(MultiResponse.self, $0) }, { probe(MultiOperationRecord.self, $0) },
        { probe(CreateRequest.self, $0) }, { probe(CreateTTLRequest.self, $0) }, { probe(SetWatches2.self, $0) },
        { probe(SetACLRequest.self, $0) }, { probe(AuthPacket.self, $0) }, { probe(ReconfigRequest.self, $0) },
        { probe(MultiTxn.self, $0) }, { probe(QuorumPacket.self, $0) }, { probe(CloseSessionTxn.self, $0) },
    ]

    static let interesting: [Int32] = [0, 1, -1, -2, 4, 0x7fff_ffff, .min, 0xfffff, 0x10_0000, 14, 15, 21, 99]

    static func mutate(_ base: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = base
        switch rng.next() % 6 {
        case 0:  // flip a few bits
            for _ in 0...(rng.next() % 4) where !bytes.isEmpty {
                let index = Int(rng.next() % UInt64(bytes.count))
                bytes[index] ^= UInt8(1) << UInt8(rng.next() % 8)
            }
        case 1:  // truncate
            bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1))))
        case 2:  // extend with random bytes
            for _ in 0..<(rng.next() % 16 + 1) { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
        case 3:  // overwrite four bytes with an interesting int (lengths, counts, op types)
            guard bytes.count >= 4 else { break }
            let at = Int(rng.next() % UInt64(bytes.count - 3))
            let value = UInt32(bitPattern: interesting[Int(rng.next() % UInt64(interesting.count))])
            for offset in 0..<4 { bytes[at + offset] = UInt8(truncatingIfNeeded: value >> (24 - 8 * offset)) }
        case 4:  // splice: duplicate a random slice
            guard !bytes.isEmpty else { break }
            let from = Int(rng.next() % UInt64(bytes.count))
            let to = from + Int(rng.next() % UInt64(bytes.count - from + 1))
            bytes.insert(contentsOf: bytes[from..<to], at: from)
        default:  // pure random
            bytes = (0..<(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
        return bytes
    }

    @Test func mutatedAndRandomInputNeverCrashes() throws {
        let corpus = try JavaVectorTests.loadCases().map(\.bytes)
        var rng = SplitMix64(seed: 0x5EED_2024)
        var decoded = 0
        var rejected = 0
        for _ in 0..<20_000 {
            let base = corpus[Int(rng.next() % UInt64(corpus.count))]
            let input = Self.mutate(base, using: &rng)
            // Also pass it through the frame decoder in random-sized chunks.
            var frames = FrameDecoder(maximumLength: 4096)
            let framed = Frame.encode(input)
            var at = 0
            while at < framed.count {
                let size = Int(rng.next() % 17) + 1
                frames.append(framed[at..<min(at + size, framed.count)])
                at += size
            }
            #expect(try frames.next() == input)
            let decoder = Self.decoders[Int(rng.next() % UInt64(Self.decoders.count))]
            if decoder(input) { decoded += 1 } else { rejected += 1 }
            // And always as the two multi bodies, the most loop-heavy decoders.
            _ = Self.probe(MultiResponse.self, input)
            _ = Self.probe(MultiOperationRecord.self, input)
        }
        #expect(decoded > 0)
        #expect(rejected > 0)
    }

    @Test func garbageFramesAreRejectedOrDecoded() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<2_000 {
            var decoder = FrameDecoder(maximumLength: 1024)
            decoder.append((0..<(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            // Either frames, nil (need more), or FrameError; never anything else.
            for _ in 0..<10 {
                do throws(FrameError) {
                    guard try decoder.next() != nil else { break }
                } catch {
                    break
                }
            }
        }
    }
}
