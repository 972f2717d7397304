import Testing
import ZooKeeperClient
import ZooKeeperRecipes

// The examples of recipes-docs/leader-latch.md, leader-selector.md and membership.md, compiled (not run) so the pages cannot
// drift from the API. Keep them in sync with the pages.

private func compact(fencedBy token: Int64) async throws {}

private func compactForever(fencedBy token: Int64) async throws {}
private func runUntilShutdown() async throws {}
private func runAsLeader(fencedBy token: Int64) async throws {}

private func leaderLatchExample(zk: ZooKeeperClient) async throws {
    let latch = LeaderLatch(client: zk, path: "/election/scheduler", id: "host-a")
    try await latch.start()
    try await latch.waitForLeadership(timeout: .seconds(30))   // throws LeaderLatchError.timedOut
    let token = latch.fencingToken!         // this term's token
    for await change in latch.leadershipChanges() { print(change.isLeader, change.fencingToken as Any) }
    await latch.close()                     // relinquish: our node is deleted

    // Or scoped: closed when the body returns, throws or is cancelled.
    try await LeaderLatch(client: zk, path: "/election/scheduler", id: "host-a").withStarted { latch in
        try await latch.waitForLeadership()
        try await runAsLeader(fencedBy: latch.fencingToken!)
    }
    _ = token
}

private func scopedSelectorExample(zk: ZooKeeperClient) async throws {
    try await LeaderSelector(client: zk, path: "/election/compactor", autoRequeue: true) { term in
        try await compactForever(fencedBy: term.fencingToken)
    }.withStarted { _ in try await runUntilShutdown() }   // closed when this returns, throws or is cancelled
}

private func leaderSelectorExample(zk: ZooKeeperClient) async throws {
    let selector = LeaderSelector(client: zk, path: "/election/compactor", id: "host-a")
    try await selector.start(autoRequeue: true) { term in
        // Runs only while we lead; cancelled when leadership becomes uncertain.
        while !Task.isCancelled {
            try await compact(fencedBy: term.fencingToken)
        }
    }
    let everyone = try await selector.participants()   // election order; the first leads
    let leader = try await selector.leader()
    _ = (everyone.map(\.id), leader?.id, selector.hasLeadership)
    selector.interruptLeadership()                      // cancel this term; autoRequeue queues again
    await selector.close()                              // cancel, release, leave
}

private func persistentNodeExample(zk: ZooKeeperClient) async throws {
    let node = try PersistentNode(client: zk, path: "/workers/host-a", mode: .ephemeral, data: Array("up".utf8))
    try await node.start()
    try await node.waitForInitialCreate(timeout: .seconds(10))   // throws PersistentNodeError.timedOut
    try await node.setData(Array("busy".utf8))          // kept for every re-creation
    print(node.actualPath ?? "-")
    await node.close()                                  // deletes the node
}

private func groupMemberExample(zk: ZooKeeperClient) async throws {
    let member = try GroupMember(client: zk, membershipPath: "/cluster/workers", memberID: "host-a",
                                 payload: Array("10.0.0.5:8080".utf8))
    let changes = member.changes()
    try await member.start()
    print(member.currentMembers().keys.sorted())        // who is alive right now
    for await change in changes {
        switch change {
        case .initial(let members): print("members", members.keys.sorted())
        case .joined(let id, _): print(id, "joined")
        case .updated(let id, let payload): print(id, "now", String(decoding: payload, as: UTF8.self))
        case .left(let id): print(id, "left")
        }
    }
    await member.close()
}

@Test("recipes-docs examples for leader latch, leader selector and membership compile")
func membershipDocExamplesCompile() {
    // Referencing the functions keeps them from being dead code; compiling them is the test.
    _ = (leaderLatchExample, scopedSelectorExample, leaderSelectorExample, persistentNodeExample, groupMemberExample)
}
