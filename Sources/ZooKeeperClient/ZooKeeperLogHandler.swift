/// A tiny logging hook: bridge it to your logger of choice. The client is silent by default.
public struct ZooKeeperLogHandler: Sendable {
    /// Severity of a log line.
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let sink: (@Sendable (Level, String) -> Void)?

    /// Creates a handler that receives every line.
    public init(_ sink: @escaping @Sendable (Level, String) -> Void) { self.sink = sink }

    private init(disabled: Void) { sink = nil }

    /// Discards everything.
    public static let disabled = ZooKeeperLogHandler(disabled: ())

    /// Prints lines at `minimum` or above to standard error.
    public static func standardError(minimum: Level = .info) -> ZooKeeperLogHandler {
        ZooKeeperLogHandler { level, message in
            guard level >= minimum else { return }
            var stream = StandardErrorStream()
            print("[zookeeper] \(level): \(message)", to: &stream)
        }
    }

    /// Whether anything receives log lines (so hot paths can skip building them).
    public var isEnabled: Bool { sink != nil }

    /// Sends one line to the sink (the message is built only if there is one). Recipes log through
    /// their client's handler, so one hook covers the client and everything built on it.
    public func log(_ level: Level, _ message: @autoclosure () -> String) {
        sink?(level, message())
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
private typealias Glibc = Darwin
#endif

private struct StandardErrorStream: TextOutputStream {
    mutating func write(_ string: String) {
        // Write straight to fd 2: the C `stderr` global is not concurrency-safe to reference in Swift 6.
        var bytes = Array(string.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { raw in
                Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
            }
            if written <= 0 { return }
            offset += written
        }
    }
}
