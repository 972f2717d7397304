import Synchronization
import ZooKeeperClient

/// Waits, bounded, for the first state on `states` that `match` accepts: an event wait, not a sleep.
///
/// A stream's first element is the state at subscription, so subscribe (`connectionStates()`) before
/// causing the change you wait for. On timeout the error names `what`, the caller and the last state
/// seen; a stream that ends (the client closed) before a match is an error too.
public func waitForState(
    _ states: AsyncStream<ConnectionState>, within timeout: Duration = .seconds(10),
    _ what: String = "a matching connection state",
    _ match: @escaping @Sendable (ConnectionState) -> Bool,
    fileID: String = #fileID, line: Int = #line
) async throws {
    let last = LastState()
    do {
        try await withTimeout(timeout) {
            for await state in states {
                if match(state) { return }
                last.record(state)
            }
            throw TestSupportError("the state stream ended before \(what) (\(fileID):\(line)); last state: \(last.description)")
        }
    } catch is TimeoutError {
        throw TimeoutError(duration: timeout, what: "\(what) at \(fileID):\(line); last state: \(last.description)")
    }
}

/// ``waitForState(_:within:_:_:fileID:line:)`` on a stream of `client`'s states subscribed now.
public func waitForState(
    _ client: ZooKeeperClient, within timeout: Duration = .seconds(10),
    _ what: String = "a matching connection state",
    _ match: @escaping @Sendable (ConnectionState) -> Bool,
    fileID: String = #fileID, line: Int = #line
) async throws {
    try await waitForState(client.connectionStates(), within: timeout, what, match, fileID: fileID, line: line)
}

/// The last state a wait saw, for its error message.
private final class LastState: Sendable, CustomStringConvertible {
    private let state = Mutex<ConnectionState?>(nil)
    func record(_ value: ConnectionState) { state.withLock { $0 = value } }
    var description: String { state.withLock { $0.map { "\($0)" } ?? "none" } }
}
