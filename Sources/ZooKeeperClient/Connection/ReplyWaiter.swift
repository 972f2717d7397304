import Synchronization
import ZooKeeperProtocol

/// A raw reply: the header's zxid and error code, and the undecoded body.
struct RawReply: Sendable {
    var zxid: Int64
    var err: ZooKeeperErrorCode
    var body: [UInt8]
}

/// The single owner of one request's continuation.
///
/// Whoever takes the continuation out (the reply, connection loss, or the caller's cancellation)
/// resumes it; everyone else finds it gone. This keeps cancellation off the request table: a
/// cancelled request stays in the FIFO so later replies still match, and its reply is dropped.
final class ReplyWaiter: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<RawReply, any Error>)
        case cancelledEarly
        /// The outcome arrived before anyone waited (a pipelined request, see `enqueueNow`).
        case early(Result<RawReply, any Error>)
        case done
    }

    private let state = Mutex(State.idle)

    /// Installs the caller's continuation; returns false (having resumed it) if already cancelled.
    func install(_ continuation: CheckedContinuation<RawReply, any Error>) -> Bool {
        let finished = state.withLock { state -> Result<RawReply, any Error>? in
            switch state {
            case .cancelledEarly:
                state = .done
                return .failure(CancellationError())
            case .early(let result):
                state = .done
                return result
            case .idle, .waiting, .done:
                state = .waiting(continuation)
                return nil
            }
        }
        if let finished { continuation.resume(with: finished) }
        return finished == nil
    }

    func resume(_ result: Result<RawReply, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<RawReply, any Error>? in
            switch state {
            case let .waiting(continuation):
                state = .done
                return continuation
            case .idle:
                if case .failure(let error) = result, error is CancellationError {
                    state = .cancelledEarly
                } else {
                    state = .early(result)
                }
                return nil
            case .cancelledEarly, .early, .done:
                return nil
            }
        }
        continuation?.resume(with: result)
    }
}
