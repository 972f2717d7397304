/// A validated absolute znode path, checked once with ZooKeeper's own rules (`PathUtils.validatePath`).
///
/// Rules: starts with `/`; no trailing `/` (except the root, or a sequential create's prefix);
/// no empty segments (`//`); no `.` or `..` segments; no NUL; none of the characters ZooKeeper
/// rejects (U+0001–U+001F, U+007F–U+009F, U+D800–U+F8FF, U+FFF0–U+FFFF).
///
/// Notable behaviours: like Java, the rules apply to UTF-16 code units, so any character outside the
/// Basic Multilingual Plane (e.g. an emoji) is rejected. A sequential prefix is checked as if a digit
/// followed it, so `/q/` , `/q/.` and `/q/..` are valid prefixes but `/q//` and `/q/./` are not.
public struct ZNodePath: Hashable, Sendable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral, Codable
{
    /// The path text, e.g. `/app/config`.
    public let string: String

    /// The root path `/`.
    public static let root = ZNodePath(unchecked: "/")

    /// Validates `string` as a znode path.
    /// - Parameter sequentialPrefix: allow a trailing `/`, as a sequential create's path may end with it.
    /// - Throws: ``ZNodePathError`` naming the rule that failed.
    public init(_ string: String, sequentialPrefix: Bool = false) throws(ZNodePathError) {
        try Self.validate(string, sequentialPrefix: sequentialPrefix)
        self.string = string
    }

    /// For literals in code. An invalid literal is a programming error and traps.
    ///
    /// A literal may end with `/`, since it may be a sequential create's prefix (`"/queue/"`); a
    /// non-sequential create, and the server, reject such a path with a clear error.
    public init(stringLiteral value: String) {
        do { try self.init(value, sequentialPrefix: true) } catch { preconditionFailure("invalid znode path literal \"\(value)\": \(error)") }
    }

    /// Wraps text already known to be valid (e.g. built from valid parts).
    package init(unchecked string: String) { self.string = string }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(string)
    }

    public var description: String { string }

    public static func < (lhs: ZNodePath, rhs: ZNodePath) -> Bool { lhs.string < rhs.string }

    /// Whether this is `/`.
    public var isRoot: Bool { string == "/" }

    /// The last segment (`"config"` for `/app/config`, `""` for the root).
    public var name: String {
        guard let slash = string.lastIndex(of: "/") else { return string }
        return String(string[string.index(after: slash)...])
    }

    /// The parent path, or `nil` for the root.
    public var parent: ZNodePath? {
        guard !isRoot, let slash = string.lastIndex(of: "/") else { return nil }
        if slash == string.startIndex { return .root }
        return ZNodePath(unchecked: String(string[..<slash]))
    }

    /// The path of a child named `name`.
    /// - Throws: ``ZNodePathError`` if `name` is not a valid single segment.
    public func appending(_ name: String) throws(ZNodePathError) -> ZNodePath {
        if name.isEmpty || name.contains("/") { throw ZNodePathError(path: name, reason: "invalid child name") }
        return try ZNodePath(isRoot ? "/" + name : string + "/" + name)
    }

    /// Every ancestor from the first segment down to this path (`/a`, `/a/b` for `/a/b`).
    public var prefixes: [ZNodePath] {
        guard !isRoot else { return [] }
        var result: [ZNodePath] = []
        var index = string.index(after: string.startIndex)
        while let slash = string[index...].firstIndex(of: "/") {
            result.append(ZNodePath(unchecked: String(string[..<slash])))
            index = string.index(after: slash)
        }
        result.append(self)
        return result
    }

    /// Whether `self` is `other` or lies under it.
    public func isDescendant(of other: ZNodePath) -> Bool {
        if other.isRoot || self == other { return true }
        return string.hasPrefix(other.string + "/")
    }

    static func validate(_ path: String, sequentialPrefix: Bool) throws(ZNodePathError) {
        func fail(_ reason: String) -> ZNodePathError { ZNodePathError(path: path, reason: reason) }
        // Exactly Java's algorithm: it runs over UTF-16 code units (so a character outside the BMP is
        // two surrogates and is rejected), and checks a sequential prefix as `path + "1"`.
        let slash: UInt16 = 0x2F
        let dot: UInt16 = 0x2E
        var chars = Array(path.utf16)
        if sequentialPrefix { chars.append(0x31) }
        guard !chars.isEmpty else { throw fail("Path length must be > 0") }
        guard chars[0] == slash else { throw fail("Path must start with / character") }
        if chars.count == 1 { return }
        if chars[chars.count - 1] == slash { throw fail("Path must not end with / character") }
        var last = slash
        for index in 1..<chars.count {
            let char = chars[index]
            defer { last = char }
            let endsSegment = index + 1 == chars.count || chars[index + 1] == slash
            if char == 0 {
                throw fail("null character not allowed @\(index)")
            } else if char == slash && last == slash {
                throw fail("empty node name specified @\(index)")
            } else if char == dot && last == dot {
                if chars[index - 2] == slash && endsSegment { throw fail("relative paths not allowed @\(index)") }
            } else if char == dot {
                if last == slash && endsSegment { throw fail("relative paths not allowed @\(index)") }
            } else if (0x01...0x1F).contains(char) || (0x7F...0x9F).contains(char)
                || (0xD800...0xF8FF).contains(char) || (0xFFF0...0xFFFF).contains(char)
            {
                throw fail("invalid character @\(index)")
            }
        }
    }
}

/// A path rejected by ZooKeeper's path rules.
public struct ZNodePathError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The rejected text.
    public var path: String
    /// Which rule it broke, in ZooKeeper's words.
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "Invalid path string \"\(path)\" caused by \(reason)" }
}
