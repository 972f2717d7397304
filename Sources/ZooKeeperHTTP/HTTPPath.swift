/// Request-target handling: origin-form paths split into decoded segments with dot segments resolved,
/// and never above the root; query strings into decoded pairs.
public enum HTTPPath {
    /// The decoded segments of `target`'s path (`/a/%20b/` → `["a", " b", ""]`).
    /// - Throws: ``HTTPParseError/forbiddenPath`` when `..` climbs above the root or a segment decodes to
    ///   something holding `/`, `\` or NUL; ``HTTPParseError/malformed(_:)`` for a target that is not a path.
    public static func segments(of target: String) throws(HTTPParseError) -> [String] {
        var path = Substring(target)
        if let question = path.firstIndex(of: "?") { path = path[..<question] }
        if let fragment = path.firstIndex(of: "#") { path = path[..<fragment] }
        // absolute-form (`http://host/path`) as proxies send it: keep the path.
        if path.hasPrefix("http://") || path.hasPrefix("https://") {
            let afterScheme = path[path.index(path.firstIndex(of: ":")!, offsetBy: 3)...]
            path = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
        }
        guard path.first == "/" else { throw .malformed("the target must start with /") }
        var result: [String] = []
        let raw = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (index, piece) in raw.enumerated() {
            guard let decoded = percentDecode(piece, plusIsSpace: false) else { throw .malformed("bad percent-encoding") }
            if decoded.contains("/") || decoded.contains("\\") || decoded.contains("\0") { throw .forbiddenPath }
            let isLast = index == raw.count - 1
            switch decoded {
            case ".":
                if isLast { result.append("") }
            case "..":
                guard !result.isEmpty else { throw .forbiddenPath }
                result.removeLast()
                if isLast { result.append("") }
            default:
                result.append(decoded)
            }
        }
        return result.isEmpty ? [""] : result
    }

    /// `a=1&b=x+y` → `[("a", "1"), ("b", "x y")]`; undecodable pairs are skipped.
    public static func queryItems(of target: String) -> [(name: String, value: String)] {
        guard let question = target.firstIndex(of: "?") else { return [] }
        var query = target[target.index(after: question)...]
        if let fragment = query.firstIndex(of: "#") { query = query[..<fragment] }
        return query.split(separator: "&").compactMap { pair -> (name: String, value: String)? in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = percentDecode(parts[0], plusIsSpace: true) else { return nil }
            let value = parts.count > 1 ? percentDecode(parts[1], plusIsSpace: true) : ""
            return value.map { (name, $0) }
        }
    }

    /// Percent-decodes UTF-8; nil for a truncated escape, a non-hex digit or invalid UTF-8.
    static func percentDecode(_ text: Substring, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else if plusIsSpace && byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
