import ZooKeeperClient

/// Small helpers the recipes share: making paths exist, waiting on a watch with a deadline.
enum RecipeSupport {
    /// Creates `path` and its missing ancestors (PERSISTENT, or `mode`), tolerating ones that exist
    /// (Curator's `ZKPaths.mkdirs` / `EnsurePath`).
    ///
    /// An ancestor that existed a moment ago can vanish before its child is created (an empty container
    /// reaped by the server: Apache checks every minute by default, test servers far more often): the
    /// child's `noNode` then starts the walk over, a bounded number of times.
    static func ensurePath(
        _ client: ZooKeeperClient, _ path: ZNodePath, mode: CreateMode = .persistent, policy: RetryPolicy
    ) async throws {
        var attempt = 0
        while true {
            do {
                for prefix in path.prefixes where !prefix.isRoot {
                    do {
                        _ = try await retrying(policy, client) { try await client.create(prefix, mode: mode) }
                    } catch let error as ZooKeeperError where error.code == .nodeExists {
                    }
                }
                return
            } catch let error as ZooKeeperError where error.code == .noNode && attempt < 5 {
                attempt += 1
            }
        }
    }

    /// `parent/name` without re-validating more than needed.
    static func child(_ parent: ZNodePath, _ name: String) throws -> ZNodePath {
        try parent.appending(name)
    }

    /// Waits for `watch` to fire; `false` if `deadline` passes first.
    static func wait(for watch: OneShotWatch, until deadline: ContinuousClock.Instant?) async throws -> Bool {
        guard let deadline else {
            _ = try await watch.event()
            return true
        }
        if ContinuousClock.now >= deadline { return false }
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { _ = try await watch.event(); return true }
            group.addTask { try await Task.sleep(until: deadline, clock: .continuous); return false }
            defer { group.cancelAll() }
            return try await group.next() ?? false
        }
    }

    /// Waits for any of `watches` to fire; `false` if `deadline` passes first.
    static func wait(forAny watches: [OneShotWatch], until deadline: ContinuousClock.Instant?) async throws -> Bool {
        if watches.count == 1 { return try await wait(for: watches[0], until: deadline) }
        if let deadline, ContinuousClock.now >= deadline { return false }
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            for watch in watches { group.addTask { _ = try await watch.event(); return true } }
            if let deadline {
                group.addTask { try await Task.sleep(until: deadline, clock: .continuous); return false }
            }
            defer { group.cancelAll() }
            return try await group.next() ?? false
        }
    }

    static func deadline(after timeout: Duration?) -> ContinuousClock.Instant? {
        timeout.map { ContinuousClock.now.advanced(by: $0) }
    }
}
