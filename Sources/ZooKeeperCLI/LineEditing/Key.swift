/// One keystroke, decoded from the bytes a terminal sends in raw mode.
public enum Key: Sendable, Equatable {
    /// A printable character (already UTF-8 decoded).
    case character(Character)
    /// A control key, by its letter: `.control("a")` is Ctrl-A (byte 0x01).
    case control(Character)
    /// Escape, then a character: Alt-b, Alt-f, Alt-d (how terminals send Meta).
    case meta(Character)
    case enter, tab, backspace, delete, escape
    case up, down, left, right, home, end
    /// Ctrl-Left / Ctrl-Right (xterm's `ESC [1;5D` / `ESC [1;5C`): move by word.
    case wordLeft, wordRight
    /// Alt-Backspace: delete the word before the cursor.
    case metaBackspace
    /// A sequence we do not bind (function keys, mouse…): ignored rather than typed.
    case unknown
}

/// Turns raw terminal bytes into ``Key``s, keeping an incomplete escape sequence or UTF-8
/// character for the next chunk (a read may split them anywhere).
public struct KeyDecoder: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// Whether bytes wait for more (an escape sequence or UTF-8 character cut short).
    /// A lone ESC stays pending until ``flush()``: the driver calls it when no byte follows soon.
    public var hasPending: Bool { !pending.isEmpty }

    /// Decodes what `bytes` completes.
    public mutating func decode(_ bytes: some Sequence<UInt8>) -> [Key] {
        pending.append(contentsOf: bytes)
        var keys: [Key] = []
        var index = 0
        while index < pending.count {
            guard let (key, length) = Self.decodeOne(pending[index...]) else { break }
            keys.append(key)
            index += length
        }
        pending.removeFirst(index)
        return keys
    }

    /// Ends a pending sequence: a lone ESC is Escape; anything else incomplete is dropped as unknown.
    public mutating func flush() -> [Key] {
        defer { pending = [] }
        guard let first = pending.first else { return [] }
        if first == 0x1B && pending.count == 1 { return [.escape] }
        if first == 0x1B, pending.count == 2 { return [.escape] + decodeTail(pending[1...]) }
        return [.unknown]
    }

    private func decodeTail(_ bytes: ArraySlice<UInt8>) -> [Key] {
        var copy = KeyDecoder()
        return copy.decode(bytes)
    }

    /// The key at the start of `bytes` and its length, or nil if more bytes are needed.
    static func decodeOne(_ bytes: ArraySlice<UInt8>) -> (Key, Int)? {
        let start = bytes.startIndex
        let byte = bytes[start]
        switch byte {
        case 0x0D, 0x0A: return (.enter, 1)
        case 0x09: return (.tab, 1)
        case 0x7F, 0x08: return (.backspace, 1)
        case 0x1B: return decodeEscape(bytes)
        case 0x00..<0x20: return (.control(Character(Unicode.Scalar(byte + 0x60))), 1)
        case 0x20..<0x7F: return (.character(Character(Unicode.Scalar(byte))), 1)
        default: return decodeUTF8(bytes)
        }
    }

    static func decodeUTF8(_ bytes: ArraySlice<UInt8>) -> (Key, Int)? {
        let lead = bytes[bytes.startIndex]
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return (.unknown, 1)
        }
        guard bytes.count >= length else { return nil }
        let sequence = bytes.prefix(length)
        guard sequence.dropFirst().allSatisfy({ $0 & 0xC0 == 0x80 }),
              let text = String(validating: sequence, as: UTF8.self), let character = text.first
        else { return (.unknown, 1) }
        return (.character(character), length)
    }

    static func decodeEscape(_ bytes: ArraySlice<UInt8>) -> (Key, Int)? {
        guard bytes.count >= 2 else { return nil }
        let second = bytes[bytes.startIndex + 1]
        switch second {
        case UInt8(ascii: "["), UInt8(ascii: "O"):
            // CSI / SS3: parameters (digits and ';') then a final byte in 0x40...0x7E.
            var index = bytes.startIndex + 2
            while index < bytes.endIndex {
                let byte = bytes[index]
                if (0x40...0x7E).contains(byte) {
                    let parameters = String(decoding: bytes[(bytes.startIndex + 2)..<index], as: UTF8.self)
                    return (csiKey(parameters: parameters, final: byte), index - bytes.startIndex + 1)
                }
                guard (0x20...0x3F).contains(byte) else { return (.unknown, index - bytes.startIndex) }
                index += 1
            }
            return nil
        case 0x7F, 0x08: return (.metaBackspace, 2)
        case 0x1B: return (.escape, 1)
        case 0x20..<0x7F: return (.meta(Character(Unicode.Scalar(second))), 2)
        default: return (.escape, 1)
        }
    }

    static func csiKey(parameters: String, final: UInt8) -> Key {
        let modified = parameters.hasSuffix(";5") || parameters.hasSuffix(";3")  // Ctrl or Alt held
        switch final {
        case UInt8(ascii: "A"): return .up
        case UInt8(ascii: "B"): return .down
        case UInt8(ascii: "C"): return modified ? .wordRight : .right
        case UInt8(ascii: "D"): return modified ? .wordLeft : .left
        case UInt8(ascii: "H"): return .home
        case UInt8(ascii: "F"): return .end
        case UInt8(ascii: "~"):
            switch parameters {
            case "1", "7": return .home
            case "4", "8": return .end
            case "3": return .delete
            default: return .unknown
            }
        default: return .unknown
        }
    }
}
