import Foundation
import Testing

@testable import ZooKeeperProtocol

/// Parses hex text, ignoring spaces; `nil` on any other character or an odd digit count.
func bytes(hex text: String) -> [UInt8]? {
    let digits = text.filter { !$0.isWhitespace }
    guard digits.count % 2 == 0 else { return nil }
    var result: [UInt8] = []
    result.reserveCapacity(digits.count / 2)
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
        result.append(byte)
        index = next
    }
    return result
}

/// Hex text for failure messages.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }.joined()
}

/// Hex literal for test vectors; a malformed literal is a test bug.
func h(_ text: String) -> [UInt8] {
    guard let value = bytes(hex: text) else { preconditionFailure("bad hex literal \(text)") }
    return value
}

/// A tiny deterministic RNG (SplitMix64), so fuzz runs are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Decodes `bytes` as `T` and reports whether it worked; any error other than JuteDecodingError is a test failure.
/// (Typed throws make that impossible at compile time; this keeps the intent explicit.)
@discardableResult
func decodeOutcome<T: JuteDecodable>(_ type: T.Type, _ bytes: [UInt8]) -> Result<T, JuteDecodingError> {
    do throws(JuteDecodingError) {
        return .success(try T(juteBytes: bytes))
    } catch {
        return .failure(error)
    }
}
