/// How a handler answers one request, from any thread, at any later time: call ``send(_:)`` once.
/// Answers after the connection closed (or a second answer) are dropped.
public struct HTTPResponder: Sendable {
    let connection: UInt64
    let keepAlive: Bool
    let includeBody: Bool
    let post: @Sendable (UInt64, [UInt8], _ close: Bool) -> Void

    /// Sends `response`; the connection then reads its next request, or closes if the request asked to.
    public func send(_ response: HTTPResponse) {
        post(connection, response.serialized(keepAlive: keepAlive, includeBody: includeBody), !keepAlive)
    }
}
