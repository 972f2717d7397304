#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from the test-support code: what failed and, for system calls, `errno`'s text.
public struct TestSupportError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    static func posix(_ call: String, _ code: Int32 = errno) -> TestSupportError {
        TestSupportError("\(call) failed: \(String(cString: strerror(code))) (errno \(code))")
    }
}
