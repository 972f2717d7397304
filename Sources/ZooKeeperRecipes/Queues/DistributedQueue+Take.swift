import ZooKeeperClient

// The take of one item: the transaction with its receipt, and resolving a lost reply.
extension DistributedQueue {
    /// Takes one node: its item; `.skipped` if another consumer took it first; `.failed` if it did not
    /// decode (then it is moved away under ``errorMode``, so it never blocks the items behind it).
    func takeNode(_ child: String) async throws -> QueueAttempt<Item> {
        let node = try path.appending(child)
        let data: [UInt8]
        do {
            (data, _) = try await retrying(retryPolicy, client) { try await client.getData(node) }
        } catch let error as ZooKeeperError where error.code == .noNode {
            return .skipped
        }
        let item: Item
        do {
            item = try serializer.decode(data)
        } catch {
            guard try await commitTake(child, also: disposal(of: child, data: data)) else { return .skipped }
            logUndeliverable(child, error)
            return .failed
        }
        return try await commitTake(child, also: []) ? .done(item) : .skipped
    }

    /// Deletes `child` (plus the writes `extra`) in one transaction with the create of an EPHEMERAL
    /// receipt `<path>/receipts/<child>`; whether *our* transaction committed. If the reply is lost, the
    /// receipt tells (it exists: ours) or not (the item is still there, or another consumer has it).
    private func commitTake(_ child: String, also extra: [Operation]) async throws -> Bool {
        let node = try path.appending(child)
        let receipt = try path.appending(Self.receiptsNodeName).appending(child)
        var madeDirectories = 0
        while true {
            do {
                // The recipes' one retry loop: a lost reply whose take did not commit (the item still there,
                // no receipt) goes back to it as the error, so a server refusing every attempt cannot make
                // this spin.
                let committed = try await retrying(retryPolicy, client) { () async throws -> Bool in
                    do {
                        _ = try await client.multi([.delete(node), .create(receipt, mode: .ephemeral)] + extra)
                        return true
                    } catch let error as ZooKeeperError where error.isRecipeRetryable {
                        guard let committed = try await outcome(ofTaking: node, receipt: receipt, after: error) else { throw error }
                        return committed
                    }
                }
                if !committed { return false }
                break
            } catch let error as ZooKeeperError where error.code == .noNode {
                // Either the item is gone (another consumer won) or a directory we create into is missing.
                if madeDirectories < 2, try await madeMissingDirectory(for: error) {
                    madeDirectories += 1
                    continue
                }
                return false
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                return false  // a processing consumer has claimed it (its claim is this receipt's name)
            }
        }
        await GuaranteedDelete.run(client: client, path: receipt)
        return true
    }

    /// Whether our take transaction of `node` (reply lost with `error`) committed: `true` if our receipt
    /// exists (an ephemeral of this live session; only ours — a processing consumer's claim has the same
    /// name), `false` if neither receipt nor item (another consumer won), `nil` if the item is still there.
    ///
    /// Asks until it knows, however long the outage: giving up while the session lives would lose an item
    /// whose delete committed. Only the end of the session (which takes the receipt with it) stops it.
    /// - Throws: the session's end, with a message naming the item that may be lost; `CancellationError`.
    private func outcome(ofTaking node: ZNodePath, receipt: ZNodePath, after error: ZooKeeperError) async throws -> Bool? {
        var last = error
        if !client.connectionState.isLost {
            do {
                // However long the outage: the helper stops only when the connection is lost for good.
                return try await retrying(retryPolicy.untilSessionEnds(backoffGrowthLimit: 8), client) {
                    let owner = try await client.exists(receipt)?.ephemeralOwner
                    if let owner, owner == client.session?.id { return true }
                    return try await client.exists(node) == nil ? false : nil
                }
            } catch let error as ZooKeeperError where error.isRecipeRetryable || error.isSessionTerminal {
                last = error  // the connection is lost, or the session over
            }
        }
        throw ZooKeeperError(
            last.isSessionTerminal ? last.code : .sessionExpired, path: node.string,
            message: "the session ended before the take of \(node) was known to have committed or not: the item may be lost",
            underlying: last)
    }
}
