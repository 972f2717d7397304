import ZooKeeperHTTP

/// A znode's data shown three ways: text, pretty JSON, hex.
enum DataRendering {
    /// The data as UTF-8 text if it decodes and holds no control characters but tab and line breaks.
    static func printableText(_ data: [UInt8]) -> String? {
        guard !data.isEmpty, let text = String(validating: data, as: UTF8.self) else { return nil }
        let printable = text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        return printable ? text : nil
    }

    /// The data parsed as JSON (an object or array), or nil.
    static func json(_ data: [UInt8]) -> JSONValue? {
        guard let text = printableText(data), let first = text.first(where: { !$0.isWhitespace }), first == "{" || first == "[" else {
            return nil
        }
        return try? JSONValue(parsing: text)
    }

    /// `xxd`-like lines: offset, 16 bytes in hex, and their printable ASCII.
    static func hexDump(_ data: [UInt8], limit: Int = 4096) -> String {
        var lines: [String] = []
        let shown = data.prefix(limit)
        var offset = 0
        while offset < shown.count {
            let row = shown[offset..<min(offset + 16, shown.count)]
            let hex = row.map { hexByte($0) }.joined(separator: " ")
            let ascii = String(row.map { $0 >= 0x20 && $0 < 0x7F ? Character(UnicodeScalar($0)) : "." })
            let position = String(offset, radix: 16)
            lines.append(String(repeating: "0", count: max(0, 8 - position.count)) + position + "  "
                         + hex.padding(toLength: 47) + "  " + ascii)
            offset += 16
        }
        if data.count > limit { lines.append("… \(data.count - limit) more bytes") }
        return lines.joined(separator: "\n")
    }

    static func hexByte(_ byte: UInt8) -> String {
        let text = String(byte, radix: 16)
        return text.count == 1 ? "0" + text : text
    }

    /// `0x…` as ZooKeeper prints zxids and session ids.
    static func hex(_ value: Int64) -> String { "0x" + String(UInt64(bitPattern: value), radix: 16) }
}

extension String {
    func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
