import ZooKeeperClient

extension DistributedQueue {
    /// Takes the head item and runs `body` on it, removing the item only once `body` has returned:
    /// **at-least-once** processing (Curator's lock-path mode), where ``take(timeout:)`` is at-most-once.
    ///
    /// While `body` runs the item is *claimed* by an EPHEMERAL `<path>/receipts/<item>` node, so other
    /// consumers — processing or plain takes — skip it. If `body` throws, the item is handled by
    /// ``errorMode`` (default `.requeue`: back at the tail, so it does not hold up the items behind it),
    /// and this consumer backs off (``RetryPolicy/delay(beforeRetry:)`` of its consecutive failures)
    /// before the error is thrown. If `body` throws because the task was cancelled, the item stays where
    /// it was. If this process dies or its session ends, the claim goes with the session and another
    /// consumer gets the item. An item that does not decode is handled by ``errorMode`` and skipped.
    ///
    /// ```swift
    /// try await queue.process(timeout: .seconds(30)) { order in try await ship(order) }
    /// ```
    ///
    /// - Parameter timeout: the longest wait for an item; `nil` waits until one comes or the task is cancelled.
    /// - Returns: `body`'s result.
    /// - Throws: ``QueueError/timedOut`` if `timeout` passed before an item could be claimed (nothing was
    ///   processed); `body`'s error (after the item was handled by ``errorMode`` and the backoff); `CancellationError`;
    ///   a non-retryable ``ZooKeeperError`` — `sessionExpired` after `body` ran means the item may be
    ///   processed again by another consumer (that is what at-least-once allows).
    ///
    /// Notable behaviours: an item can be processed twice only when a session ends between `body`
    /// returning and the removal committing, or while a stalled consumer's session expires — make `body`
    /// idempotent. Consumers using ``take(timeout:)`` on the same queue respect claims.
    public func process<Result: Sendable>(
        timeout: Duration? = nil, _ body: (Item) async throws -> Result
    ) async throws -> Result {
        let processed = try await firstTaken(deadline: RecipeSupport.deadline(after: timeout), notBefore: { _ in nil }) {
            child in try await processNode(child, body)
        }
        guard let processed else { throw QueueError.timedOut }
        return processed
    }

    /// Claims `child`, runs `body` on its item, then removes item and claim together; `.skipped` if the
    /// item is claimed or gone; `.failed` if it does not decode (handled by ``errorMode``).
    private func processNode<Result: Sendable>(
        _ child: String, _ body: (Item) async throws -> Result
    ) async throws -> QueueAttempt<Result> {
        let node = try path.appending(child)
        let receipts = try path.appending(Self.receiptsNodeName)
        let claim = try receipts.appending(child)
        do {
            guard try await makeClaim(claim, receipts: receipts) else { return .skipped }
        } catch {
            await deleteIfOurs(claim)  // a create may have landed before the failure or cancellation
            throw error
        }
        let data: [UInt8]
        let item: Item
        do {
            do {
                (data, _) = try await retrying(retryPolicy, client) { try await client.getData(node) }
            } catch let error as ZooKeeperError where error.code == .noNode {
                await GuaranteedDelete.run(client: client, path: claim)
                return .skipped  // taken before our claim
            }
            do {
                item = try serializer.decode(data)
            } catch {
                // Never let it block the items behind it.
                try await remove(node, claim: claim, also: disposal(of: child, data: data))
                logUndeliverable(child, error)
                return .failed
            }
        } catch {
            await GuaranteedDelete.run(client: client, path: claim)  // the item stays for the next consumer
            throw error
        }
        let result: Result
        do {
            result = try await body(item)
        } catch {
            try await bodyFailed(child, data: data, claim: claim, error)
        }
        failures.reset()
        try await remove(node, claim: claim)
        return .done(result)
    }

    /// Handles an item whose body threw `error` (see ``process(timeout:_:)``), backs off, and rethrows.
    private func bodyFailed(_ child: String, data: [UInt8], claim: ZNodePath, _ error: any Error) async throws -> Never {
        if error is CancellationError || Task.isCancelled {
            await GuaranteedDelete.run(client: client, path: claim)  // not the item's fault: it stays
            throw error
        }
        do {
            try await remove(path.appending(child), claim: claim, also: disposal(of: child, data: data))
            logUndeliverable(child, error)
        } catch let disposalError {
            // Say so, drop the claim (the item stays for the next consumer) and report the body's error.
            client.configuration.logHandler.log(.error, "queue \(path): could not move failed item \(child): \(disposalError)")
            await GuaranteedDelete.run(client: client, path: claim)
        }
        // A body that keeps failing (a poison item, a dead dependency) must not spin: back off.
        try? await Task.sleep(for: retryPolicy.delay(beforeRetry: failures.fail()))
        throw error
    }

    /// Creates our claim; `false` if another consumer holds one.
    private func makeClaim(_ claim: ZNodePath, receipts: ZNodePath) async throws -> Bool {
        var madeReceipts = false
        while true {
            do {
                _ = try await retrying(retryPolicy, client) { try await client.create(claim, mode: .ephemeral) }
                return true
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                // Ours if a retried create had in fact succeeded; anyone else's: skip the item. Asked until
                // answered or the session is lost: giving up here would leave our claim holding the item.
                let owner = try await retrying(Self.claimCheckPolicy(retryPolicy), client) { try await client.exists(claim) }?.ephemeralOwner
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
        let client = client, policy = Self.claimCheckPolicy(retryPolicy)
        await Task.detached {
            // Asked until answered (a claim left in place would hold the item while the session lives); if
            // it fails even so, the session is over: the claim (an ephemeral) ended with it.
            guard let session = client.session?.id,
                  let stat = try? await retrying(policy, client, { try await client.exists(claim) }),
                  stat.ephemeralOwner == session else { return }
            await GuaranteedDelete.run(client: client, path: claim)
        }.value
    }

    /// The claim checks' policy: `policy`'s backoff, without its limits — retried until answered or the
    /// session is lost.
    private static func claimCheckPolicy(_ policy: RetryPolicy) -> RetryPolicy {
        policy.untilSessionEnds(backoffGrowthLimit: 5)
    }

    /// Deletes the item and our claim (plus the writes `extra`) in one transaction, retrying through
    /// connection loss (at the policy's first backoff step, until the connection is lost for good).
    private func remove(_ node: ZNodePath, claim: ZNodePath, also extra: [Operation] = []) async throws {
        var madeDirectories = 0
        while true {
            do {
                // Until it is answered or the connection is lost: the item is ours to remove.
                _ = try await retrying(retryPolicy.untilSessionEnds(backoffGrowthLimit: 0), client) {
                    try await client.multi([.delete(node), .delete(claim)] + extra)
                }
                return
            } catch let error as ZooKeeperError where error.code == .noNode {
                if madeDirectories < 2, try await madeMissingDirectory(for: error) {
                    madeDirectories += 1  // the dead-letter directory was missing
                    continue
                }
                // Our claim kept everyone else off the item, so a missing node means an earlier attempt of
                // ours committed — unless the claim is gone too (session over): then just clean up.
                await GuaranteedDelete.run(client: client, path: claim)
                return
            }
        }
    }
}
