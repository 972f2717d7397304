import ZooKeeperClient

extension DistributedQueue {
    /// Takes the head item and runs `body` on it, removing the item only once `body` has returned:
    /// **at-least-once** processing (Curator's lock-path mode), where ``take(timeout:)`` is at-most-once.
    ///
    /// While `body` runs the item is *claimed* by an EPHEMERAL `<path>/receipts/<item>` node, so other
    /// consumers — processing or plain takes — skip it. If `body` throws, the claim is dropped and the
    /// item stays at the head for the next consumer; if this process dies or its session ends, the claim
    /// goes with the session and another consumer gets the item.
    ///
    /// ```swift
    /// try await queue.process(timeout: .seconds(30)) { order in try await ship(order) }
    /// ```
    ///
    /// - Parameter timeout: the longest wait for an item; `nil` waits until one comes or the task is cancelled.
    /// - Returns: `body`'s result, or `nil` if `timeout` passed first.
    /// - Throws: `body`'s error (the item stays queued); a decoding error (the item stays); `CancellationError`;
    ///   a non-retryable ``ZooKeeperError`` — `sessionExpired` after `body` ran means the item may be
    ///   processed again by another consumer (that is what at-least-once allows).
    ///
    /// Notable behaviours: an item can be processed twice only when a session ends between `body`
    /// returning and the removal committing, or while a stalled consumer's session expires — make `body`
    /// idempotent. Consumers using ``take(timeout:)`` on the same queue respect claims.
    public func process<Result: Sendable>(
        timeout: Duration? = nil, _ body: (Item) async throws -> Result
    ) async throws -> Result? {
        try await firstTaken(deadline: RecipeSupport.deadline(after: timeout), notBefore: { _ in nil }) { child in
            try await processNode(child, body)
        }
    }

    /// Claims `child`, runs `body` on its item, then removes item and claim together; `nil` if the item
    /// is claimed or gone.
    private func processNode<Result: Sendable>(_ child: String, _ body: (Item) async throws -> Result) async throws -> Result? {
        let node = try path.appending(child)
        let receipts = try path.appending(Self.receiptsNodeName)
        let claim = try receipts.appending(child)
        do {
            guard try await makeClaim(claim, receipts: receipts) else { return nil }
        } catch {
            await deleteIfOurs(claim)  // a create may have landed before the failure or cancellation
            throw error
        }
        let result: Result
        do {
            let data: [UInt8]
            do {
                (data, _) = try await retrying(retryPolicy, client) { try await client.getData(node) }
            } catch let error as ZooKeeperError where error.code == .noNode {
                await GuaranteedDelete.run(client: client, path: claim)
                return nil  // taken before our claim
            }
            result = try await body(try serializer.decode(data))
        } catch {
            await GuaranteedDelete.run(client: client, path: claim)  // the item stays for the next consumer
            throw error
        }
        try await remove(node, claim: claim)
        return result
    }

    /// Creates our claim; `false` if another consumer holds one.
    private func makeClaim(_ claim: ZNodePath, receipts: ZNodePath) async throws -> Bool {
        var madeReceipts = false
        while true {
            do {
                _ = try await retrying(retryPolicy, client) { try await client.create(claim, mode: .ephemeral) }
                return true
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                // Ours if a retried create had in fact succeeded; anyone else's: skip the item.
                let owner = try await retrying(retryPolicy, client) { try await client.exists(claim) }?.ephemeralOwner
                return owner != nil && owner == client.session?.id
            } catch let error as ZooKeeperError where error.code == .noNode && !madeReceipts {
                madeReceipts = true
                try await RecipeSupport.ensurePath(client, receipts, policy: retryPolicy)
            }
        }
    }

    /// Deletes `claim` if it is ours (never another consumer's), in its own task so a cancelled caller
    /// still cleans up.
    private func deleteIfOurs(_ claim: ZNodePath) async {
        let client = client, policy = retryPolicy
        await Task.detached {
            // If even the retried check fails, the session is over or unreachable: the claim (an
            // ephemeral) ends with the session.
            guard let session = client.session?.id,
                  let stat = try? await retrying(policy, client, { try await client.exists(claim) }),
                  stat.ephemeralOwner == session else { return }
            await GuaranteedDelete.run(client: client, path: claim)
        }.value
    }

    /// Deletes the item and our claim in one transaction, retrying through connection loss.
    private func remove(_ node: ZNodePath, claim: ZNodePath) async throws {
        while true {
            do {
                _ = try await client.multi([.delete(node), .delete(claim)])
                return
            } catch let error as ZooKeeperError where error.code == .noNode {
                // Our claim kept everyone else off the item, so a missing node means an earlier attempt of
                // ours committed — unless the claim is gone too (session over): then just clean up.
                await GuaranteedDelete.run(client: client, path: claim)
                return
            } catch let error as ZooKeeperError where error.isRecipeRetryable {
                if case .lost = client.connectionState { throw error }
                try await Task.sleep(for: retryPolicy.delay(beforeRetry: 0))
            }
        }
    }
}
