import Synchronization
import ZooKeeperClient

/// The driver of ``PersistentNode``: one event at a time, so creates never overlap.
extension PersistentNode {
    /// What a create attempt found.
    private enum Outcome {
        /// Our node (newly created, or an earlier attempt's adopted).
        case ours(Node)
        /// An unprotected fixed path holds another session's ephemeral: wait for it to go.
        case blocked
    }

    func handle(_ event: Event) async {
        switch event {
        case .check, .clientReplaced:
            await ensure()
        case let .watchFired(generation):
            if generation == state.withLock({ $0.generation }) { await ensure() }
        case let .connection(connection, clientID):
            guard clientID == ObjectIdentifier(client) else { return }  // a replaced client's late news
            switch connection {
            case .connected, .reconnected:
                await ensure()
            case .lost:
                await sessionLost()
            default:
                break
            }
        }
    }

    /// Makes sure our node exists and is watched (steps 1–3 of the algorithm).
    private func ensure() async {
        let client = self.client
        guard client.connectionState.isConnected else { return }  // `.reconnected` brings us back
        do {
            for _ in 0..<10 {
                if let node = state.withLock({ $0.node }) {
                    let nodePath = try ZNodePath(node.path)
                    let (stat, watch) = try await retrying(retryPolicy, client) { try await client.existsWatching(nodePath) }
                    if let stat, owned(stat, by: client) {
                        arm(watch)
                        try await writePendingData(to: nodePath, client: client)
                        return
                    }
                    state.withLock { state in if state.node == node { state.node = nil } }
                    if stat != nil, !isProtected {
                        // Another session's node at our fixed path: never delete it; the watch tells us when it goes.
                        arm(watch)
                        return
                    }
                    continue
                }
                let data = self.data
                switch try await create(data: data, client: client) {
                case .blocked:
                    let (stat, watch) = try await retrying(retryPolicy, client) { try await client.existsWatching(path) }
                    if stat != nil {
                        arm(watch)
                        return
                    }
                case let .ours(node):
                    guard publish(node) else {
                        await GuaranteedDelete.run(client: client, path: try ZNodePath(node.path))  // closed meanwhile
                        return
                    }
                    // setData ran while we created: the next pass (verifying the node) writes the newer data.
                    state.withLock { state in if state.data != data { state.pendingWrite = true } }
                }
            }
            scheduleRetry()  // the node keeps vanishing under us: back off
        } catch let error as ZooKeeperError where error.isRecipeRetryable {
            scheduleRetry()
        } catch {
            // Cancellation (closing) or the session ended: the connection monitor reports the rest.
        }
    }

    /// Writes the stored data if a ``PersistentNode/setData(_:)`` has not reached the node yet.
    private func writePendingData(to nodePath: ZNodePath, client: ZooKeeperClient) async throws {
        guard let data = state.withLock({ state -> [UInt8]? in
            defer { state.pendingWrite = false }
            return state.pendingWrite ? state.data : nil
        }) else { return }
        do {
            _ = try await retrying(retryPolicy, client) { try await client.setData(nodePath, data: data) }
        } catch let error as ZooKeeperError where error.code == .noNode {
            // Deleted meanwhile: the watch just armed fires and the re-creation uses the stored data.
        } catch {
            state.withLock { $0.pendingWrite = true }  // retried on the next check
            throw error
        }
    }

    /// Whether an existing node counts as ours: a persistent (or TTL) node, or our current session's ephemeral.
    private func owned(_ stat: Stat, by client: ZooKeeperClient) -> Bool {
        guard mode.isEphemeral else { return true }
        return stat.ephemeralOwner == client.session?.id
    }

    private func create(data: [UInt8], client: ZooKeeperClient) async throws -> Outcome {
        if isProtected {
            guard let parent = path.parent else { throw PersistentNodeError.invalidConfiguration("no parent") }
            let creator = ProtectedCreate(client: client, parent: parent, name: path.name, uuid: creator)
            do {
                let node = try await creator.create(data: data, mode: mode, ttl: ttl, policy: retryPolicy)
                return .ours(Node(path: node.path.string, ephemeralOwner: node.ephemeralOwner))
            } catch {
                // The create may have happened: a later attempt starts afresh, so remove what carries our prefix.
                if !(error is CancellationError) { await creator.deleteAllOwn() }
                throw error
            }
        }
        return try await retrying(retryPolicy, client) {
            var parentsCreated = 0
            while true {
                do {
                    let (created, stat) = try await client.createReturningStat(path, data: data, mode: mode, ttl: ttl)
                    return .ours(Node(path: created, ephemeralOwner: stat.ephemeralOwner))
                } catch let error as ZooKeeperError where error.code == .noNode && parentsCreated < 5 {
                    parentsCreated += 1
                    if let parent = path.parent {
                        try await RecipeSupport.ensurePath(client, parent, mode: .container, policy: retryPolicy)
                    }
                } catch let error as ZooKeeperError where error.code == .nodeExists {
                    // A retry after a lost reply finds the node it made; or someone else's node is there.
                    guard let stat = try await client.exists(path) else { continue }
                    guard owned(stat, by: client) else { return .blocked }
                    _ = try await client.setData(path, data: data)  // Curator: adopt and rewrite the data
                    return .ours(Node(path: path.string, ephemeralOwner: stat.ephemeralOwner))
                }
            }
        }
    }

    /// Records our node and tells subscribers; `false` if closed meanwhile.
    private func publish(_ node: Node) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.node = node
            // Yielded under the lock (a buffer append) so subscribers see creations in order.
            state.subscribers.yield(node.path)
            return true
        }
    }

    private func arm(_ watch: OneShotWatch) {
        let sink = eventSink
        let forwarder = state.withLock { state -> Task<Void, Never>? in
            guard !state.closed else { return nil }
            state.generation += 1
            let generation = state.generation
            state.forwarder?.cancel()
            let task = Task {
                if (try? await watch.event()) != nil { sink.yield(.watchFired(generation)) }
            }
            state.forwarder = task
            return task
        }
        _ = forwarder
    }

    private func scheduleRetry() {
        let sink = eventSink
        let delay = retryPolicy.delay(beforeRetry: 0)
        state.withLock { state in
            guard !state.closed else { return }
            state.retry?.cancel()
            state.retry = Task {
                try? await Task.sleep(for: delay)
                if !Task.isCancelled { sink.yield(.check) }
            }
        }
    }

    /// The session is over: ephemerals are gone. Get a new client from the factory, if there is one.
    private func sessionLost() async {
        if mode.isEphemeral { state.withLock { $0.node = nil } }
        guard let makeClient else { return }
        var retries = 0
        while !Task.isCancelled, !state.withLock({ $0.closed }) {
            do {
                let newClient = try await makeClient()
                replaceClient(newClient)
                return
            } catch {
                try? await Task.sleep(for: RetryPolicy.forever.delay(beforeRetry: min(retries, 5)))
                retries += 1
            }
        }
    }

    /// On close: deletes our node — known, or (after an interrupted create) found by its protected prefix.
    func deleteOwnNode() async {
        let (client, node) = state.withLock { state in
            defer { state.node = nil }
            return (state.client, state.node)
        }
        if let node {
            // An ephemeral of an older session is gone or going; its path may be someone else's by now.
            if !mode.isEphemeral || node.ephemeralOwner == client.session?.id {
                await GuaranteedDelete.run(client: client, path: (try? ZNodePath(node.path)) ?? path)
            }
        } else if isProtected, let parent = path.parent {
            await ProtectedCreate(client: client, parent: parent, name: path.name, uuid: creator).deleteAllOwn()
        } else if mode.isEphemeral {
            // Closed while an unprotected create was in flight: the node is ours only if our session owns it.
            do {
                if let stat = try await client.exists(path), stat.ephemeralOwner == client.session?.id {
                    await GuaranteedDelete.run(client: client, path: path)
                }
            } catch {
                // Disconnected or session over: an ephemeral of ours goes with the session anyway.
            }
        }
    }
}
