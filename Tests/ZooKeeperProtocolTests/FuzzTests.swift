import Testing
@testable import ZooKeeperProtocol

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

    /// What a correct frame decoder makes of `stream`: the frames it yields, then either "need more"
    /// with the bytes still buffered, or the error of the first out-of-range length prefix.
    enum FrameOutcome: Equatable {
        case needMore(buffered: Int)
        case rejected(FrameError)
    }

    static func expectedFrames(_ stream: [UInt8], maximum: Int) -> (frames: [[UInt8]], end: FrameOutcome) {
        var frames: [[UInt8]] = []
        var at = 0
        while true {
            guard stream.count - at >= 4 else { return (frames, .needMore(buffered: stream.count - at)) }
            let raw = stream[at..<(at + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let length = Int32(bitPattern: raw)
            guard length >= 0, Int(length) <= maximum else {
                return (frames, .rejected(.lengthOutOfRange(length: length, maximum: maximum)))
            }
            guard stream.count - at - 4 >= Int(length) else { return (frames, .needMore(buffered: stream.count - at)) }
            frames.append(Array(stream[(at + 4)..<(at + 4 + Int(length))]))
            at += 4 + Int(length)
        }
    }

    /// Garbage mixed with plausible frame headers (in range, at the bound, just over it, negative), fed
    /// in random chunks and drained after each: every `next()` is a frame, "need more" (nil) or a
    /// `FrameError`; the frames and the final outcome are exactly what the framing rules give; an error
    /// repeats (the stream stays unusable) and nothing else changes after it; and while the decoder waits
    /// for more it never holds more than one maximal frame.
    @Test func garbageFramesAreRejectedOrDecoded() throws {
        var rng = SplitMix64(seed: 42)
        let maximum = 1024
        var seen = (frames: 0, needMore: 0, rejected: 0)
        for run in 0..<2_000 {
            var stream: [UInt8] = []
            for _ in 0..<(rng.next() % 6 + 1) {
                switch rng.next() % 8 {
                case 0:  // pure garbage
                    stream += (0..<(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                case 1...5:  // a header and a body, possibly cut short
                    let length = Int(rng.next() % 64)
                    stream += withUnsafeBytes(of: Int32(length).bigEndian) { Array($0) }
                    stream += (0..<(rng.next() % UInt64(length + 8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                default:  // an edge-case length prefix
                    let lengths: [Int32] = [0, Int32(maximum), Int32(maximum) + 1, -1, .min, .max, 0x10_0000]
                    let length = lengths[Int(rng.next() % UInt64(lengths.count))]
                    stream += withUnsafeBytes(of: length.bigEndian) { Array($0) }
                }
            }
            let expected = Self.expectedFrames(stream, maximum: maximum)

            var decoder = FrameDecoder(maximumLength: maximum)
            var frames: [[UInt8]] = []
            var failure: FrameError?
            var at = 0
            feeding: while at < stream.count {
                let size = Int(rng.next() % 13) + 1
                decoder.append(stream[at..<min(at + size, stream.count)])
                at += size
                while true {
                    do throws(FrameError) {
                        guard let frame = try decoder.next() else { break }
                        frames.append(frame)
                    } catch {
                        failure = error
                        break feeding
                    }
                }
                #expect(decoder.bufferedByteCount < 4 + maximum, "run \(run): waiting with more than one maximal frame buffered")
            }
            #expect(frames == expected.frames, "run \(run): frames differ from the framing rules")
            switch expected.end {
            case .needMore(let buffered):
                #expect(failure == nil, "run \(run): rejected a stream the rules accept: \(String(describing: failure))")
                #expect(decoder.bufferedByteCount == buffered, "run \(run)")
                #expect(try decoder.next() == nil, "run \(run): \"need more\" must stay \"need more\" without new bytes")
                seen.needMore += 1
            case .rejected(let error):
                #expect(failure == error, "run \(run): expected \(error), got \(String(describing: failure))")
                let buffered = decoder.bufferedByteCount
                #expect(throws: error, "run \(run): an out-of-range prefix stays an error") { try decoder.next() }
                #expect(decoder.bufferedByteCount == buffered, "run \(run): a rejected next() consumed bytes")
                seen.rejected += 1
            }
            seen.frames += frames.count
        }
        // The generator reaches every outcome, so the checks above are not vacuous.
        #expect(seen.frames > 800 && seen.needMore > 300 && seen.rejected > 300, "\(seen)")
    }

    /// A long stream (4 MB) of frames of random sizes, cut at random points so a partial frame is almost
    /// always pending: the storage behind the decoder (consumed prefix included) stays within a fixed
    /// bound of what is buffered, instead of growing with the stream.
    @Test func frameDecoderStorageStaysBoundedOnALongStream() throws {
        var rng = SplitMix64(seed: 0xF4A3E)
        let maximum = 4096
        var bodies: [[UInt8]] = []
        var stream: [UInt8] = []
        while stream.count < 4 << 20 {
            let body = (0..<Int(rng.next() % UInt64(maximum + 1))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            bodies.append(body)
            stream += Frame.encode(body)
        }
        var decoder = FrameDecoder(maximumLength: maximum)
        var received = 0
        var largestRetained = 0
        var violations: [String] = []
        var at = 0
        while at < stream.count {
            let size = Int(rng.next() % 3000) + 1
            decoder.append(stream[at..<min(at + size, stream.count)])
            at += size
            while let frame = try decoder.next() {
                if received >= bodies.count || frame != bodies[received] { violations.append("frame \(received) differs") }
                received += 1
            }
            largestRetained = max(largestRetained, decoder.retainedByteCount)
            if decoder.bufferedByteCount >= 4 + maximum {
                violations.append("waiting with \(decoder.bufferedByteCount) bytes buffered")
            }
            // Compaction keeps the consumed prefix below 64 KiB or below the live bytes.
            if decoder.retainedByteCount > 65_536 + 2 * decoder.bufferedByteCount {
                violations.append("retained \(decoder.retainedByteCount) bytes for \(decoder.bufferedByteCount) buffered")
            }
        }
        #expect(violations.isEmpty, "\(violations.count) violations, first: \(violations.prefix(3))")
        #expect(received == bodies.count && decoder.bufferedByteCount == 0)
        #expect(largestRetained <= 65_536 + 2 * (4 + maximum), "largest storage \(largestRetained)")
        // The consumed prefix did pile up past the compaction threshold, so the bound above was exercised.
        #expect(largestRetained > 65_536, "largest storage \(largestRetained)")
    }
}
