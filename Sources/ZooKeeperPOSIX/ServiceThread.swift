import Foundation
import Synchronization

/// A named thread that runs one loop, and whose end can be awaited (the server's network and
/// pipeline threads, the HTTP server's loop).
package final class ServiceThread: Sendable {
    /// Continuations waiting for the end; nil once the thread has finished.
    private let waiters = Mutex<[CheckedContinuation<Void, Never>]?>([])

    package init() {}

    /// Runs `body` on a new thread named `name`.
    package func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            body()
            let pending = waiters.withLock { waiters in
                defer { waiters = nil }
                return waiters ?? []
            }
            for waiter in pending { waiter.resume() }
        }
        thread.name = name
        thread.start()
    }

    /// Returns once the thread's body has returned (at once if it already has).
    package func waitUntilFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = waiters.withLock { waiters -> Bool in
                guard waiters != nil else { return true }
                waiters!.append(continuation)
                return false
            }
            if finished { continuation.resume() }
        }
    }
}
