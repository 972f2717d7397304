#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure in the socket layer. Wrapped by the client and server as an `underlying` cause.
package enum SocketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A system call failed with `errno`.
    case system(call: String, errno: Int32)
    /// The host name did not resolve.
    case resolutionFailed(host: String, message: String)
    /// A connect or handshake did not finish in time.
    case timedOut(operation: String)
    /// The peer closed the connection.
    case closedByPeer
    /// A wait was cut short by a wake-up (e.g. the owner is shutting down).
    case interrupted

    package var description: String {
        switch self {
        case let .system(call, code):
            return "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        case let .resolutionFailed(host, message):
            return "cannot resolve \(host): \(message)"
        case let .timedOut(operation):
            return "\(operation) timed out"
        case .closedByPeer:
            return "connection closed by peer"
        case .interrupted:
            return "interrupted"
        }
    }

    static func lastError(_ call: String) -> SocketError { .system(call: call, errno: errno) }
}
