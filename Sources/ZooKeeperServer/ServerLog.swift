/// Where the server's log lines go: a closure you bridge to your logger. Silent by default.
public struct ServerLog: Sendable {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let sink: (@Sendable (Level, String) -> Void)?

    public init(_ sink: @escaping @Sendable (Level, String) -> Void) { self.sink = sink }
    private init(silent: Void) { sink = nil }

    /// Discards everything (the embedded server's default).
    public static let silent = ServerLog(silent: ())

    func debug(_ message: @autoclosure () -> String) { sink?(.debug, message()) }
    func info(_ message: @autoclosure () -> String) { sink?(.info, message()) }
    func warning(_ message: @autoclosure () -> String) { sink?(.warning, message()) }
    func error(_ message: @autoclosure () -> String) { sink?(.error, message()) }
}
