import Synchronization
import ZooKeeperProtocol

extension ClientCore {
    /// Ends the session when nobody awaits the close: a ``ZooKeeperClient`` released without `close()`,
    /// or a cancelled `run()`. If connected, `closeSession` is sent (so the session's ephemeral nodes,
    /// locks included, go at once, not a session timeout later) and the I/O thread terminates the core
    /// once it is answered or the connection ends; otherwise the core terminates now.
    func closeDetached() {
        let connected = state.withLock { state -> Bool? in
            guard case .running = state.lifecycle else { return nil }
            state.lifecycle = .closing
            return state.connectionState.isConnected
        }
        guard let connected else { return }
        if connected {
            enqueue(opCode: .closeSession, body: [], waiter: ReplyWaiter(), watch: nil)
        } else {
            perform(terminate(ZooKeeperError(.clientClosed, message: "the client was closed"), reason: .closed))
        }
    }

    /// Whether a `closeSession` was answered: the I/O thread ends the connection then.
    var closeSessionAnswered: Bool { state.withLock { $0.closeSessionAnswered } }
}
