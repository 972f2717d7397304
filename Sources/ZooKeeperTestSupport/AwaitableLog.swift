import Synchronization

/// Values that arrive from any thread, and a bounded wait for the first one (already there or still to come)
/// that satisfies a condition: what a test waits on instead of sleeping.
public final class AwaitableLog<Value: Sendable>: Sendable {
    private struct Waiter {
        var id: Int
        var match: @Sendable (Value) -> Bool
        var continuation: CheckedContinuation<Value?, Never>
    }

    private let state = Mutex<(values: [Value], waiters: [Waiter])>(([], []))
    private let nextID = Atomic<Int>(0)

    public init() {}

    /// Records `value` and wakes every waiter it satisfies.
    public func append(_ value: Value) {
        let ready = state.withLock { state -> [CheckedContinuation<Value?, Never>] in
            state.values.append(value)
            let matched = state.waiters.filter { $0.match(value) }.map(\.continuation)
            state.waiters.removeAll { $0.match(value) }
            return matched
        }
        for continuation in ready { continuation.resume(returning: value) }
    }

    /// The first value that `match`es, or nil when none has arrived within `timeout`.
    public func first(within timeout: Duration, where match: @escaping @Sendable (Value) -> Bool = { _ in true }) async -> Value? {
        let id = nextID.add(1, ordering: .relaxed).newValue
        return await withTaskGroup(of: Value?.self) { group in
            group.addTask {
                await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
                    let existing = self.state.withLock { state -> Value? in
                        if let found = state.values.first(where: match) { return found }
                        state.waiters.append(Waiter(id: id, match: match, continuation: continuation))
                        return nil
                    }
                    if let existing { continuation.resume(returning: existing) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)  // the bound of the wait, not a synchronisation
                return nil
            }
            let result = await group.next() ?? nil
            // Whichever finished first, release the other waiter (a continuation must be resumed once).
            let abandoned = state.withLock { state -> CheckedContinuation<Value?, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            abandoned?.resume(returning: nil)
            group.cancelAll()
            return result
        }
    }

    public var count: Int { state.withLock { $0.values.count } }
    public var last: Value? { state.withLock { $0.values.last } }
}
