import Foundation
import ZooKeeperProtocol
import ZooKeeperTestSupport

/// One session on raw frames: any opcode (setWatches, reconfig, a top-level check…) with the reply
/// exactly as the server sent it. Blocking: run it with ``onOwnThread(_:)``.
final class ProbeSession {
    enum Reply: Equatable {
        case answered(err: ZooKeeperErrorCode, body: [UInt8])
        /// The server closed the connection (or reset it) before answering.
        case closed
        case timedOut
    }

    private let connection: RawConnection
    private var xid: Int32 = 0
    private(set) var isClosed = false
    /// The zxid of the last reply read.
    private(set) var lastReplyZxid: Int64?

    init(port: Int) throws {
        connection = try RawConnection(port: port)
        _ = try connection.handshake()
    }

    func addAuth(scheme: String, _ auth: String) -> Reply {
        exchange(xid: ReservedXid.auth, type: .auth,
                 body: AuthPacket(type: 0, scheme: scheme, auth: Array(auth.utf8)).juteBytes())
    }

    func send(_ op: OpCode, _ record: some JuteEncodable) -> Reply {
        xid += 1
        return exchange(xid: xid, type: op, body: record.juteBytes())
    }

    /// Sends one request and reads frames until its reply; watch notifications in between are skipped.
    private func exchange(xid: Int32, type: OpCode, body: [UInt8]) -> Reply {
        guard !isClosed else { return .closed }
        var writer = JuteWriter(capacity: 8 + body.count)
        writer.write(RequestHeader(xid: xid, type: type.rawValue))
        writer.writeRaw(body)
        do {
            try connection.writeFrame(writer.bytes)
            while true {
                switch try connection.readFrame(within: .seconds(5)) {
                case .closed:
                    isClosed = true
                    return .closed
                case .timedOut:
                    return .timedOut
                case let .frame(frame):
                    var reader = JuteReader(frame)
                    let header = try reader.read(ReplyHeader.self)
                    if header.xid == ReservedXid.notification { continue }
                    lastReplyZxid = header.zxid
                    return .answered(err: ZooKeeperErrorCode(rawValue: header.err), body: reader.readRemaining())
                }
            }
        } catch {
            isClosed = true  // a failed write or an unreadable frame: the session is unusable
            return .closed
        }
    }
}

/// Runs blocking socket code on a thread of its own rather than on the cooperative pool (which has
/// as many threads as cores: two here).
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
