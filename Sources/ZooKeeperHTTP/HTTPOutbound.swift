/// What handlers post to the server thread for one connection.
enum HTTPOutbound: Sendable {
    /// A whole response; `close` ends the connection after it.
    case response([UInt8], close: Bool)
    /// The head of a streamed response; the connection then takes chunks until ``streamEnd(_:close:)``.
    case streamHead([UInt8], HTTPStream)
    /// More of a streamed body (already framed).
    case chunk([UInt8], HTTPStream)
    /// The end of a streamed body (its terminator, if any, already framed).
    case streamEnd([UInt8], HTTPStream, close: Bool)
}
