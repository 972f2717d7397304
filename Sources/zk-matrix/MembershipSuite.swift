import ZooKeeperClient
import ZooKeeperRecipes

/// GroupMember: members m0 (the victim; with a reconnect factory), m1 and m2 join a group; after the
/// fault m2's process dies (its client closes, no leave) and m3 joins.
struct MembershipSuite {
    static let invariant = """
        every live member's view (currentMembers) converges to the live set {m0, m1, m3} within 2 × session \
        timeout + 10 s of the fault, each member's changes() stream replays consistently (joined only when absent, \
        updated/left only when present) to that same view, and on the server each member node is owned by its \
        member's current session (m0's a new one after expiry/partition); a member cut off is listed until its \
        session expires (documented), never longer
        """

    final class Replay: Sendable {
        let id: String
        let state = Shared<(members: Set<String>, violations: [String])>(([], []))
        init(_ id: String) { self.id = id }

        func follow(_ changes: AsyncStream<MembershipChange>) async {
            for await change in changes { apply(change) }
        }

        func apply(_ change: MembershipChange) {
            state.withLock { state in
                switch change {
                case .initial(let members): state.members = Set(members.keys)
                case .joined(let member, _):
                    if !state.members.insert(member).inserted { state.violations.append("\(id) saw \(member) join twice") }
                case .updated(let member, _):
                    if !state.members.contains(member) { state.violations.append("\(id) saw absent \(member) updated") }
                case .left(let member):
                    if state.members.remove(member) == nil { state.violations.append("\(id) saw absent \(member) leave") }
                }
            }
        }
    }

    func run(_ context: ScenarioContext) async throws {
        try await context.prepare()
        let group = try context.root.appending("group")
        var tasks: [Task<Void, Never>] = []
        func join(_ id: String, reconnecting: Bool) async throws -> (GroupMember, Replay) {
            let reconnect: (@Sendable () async throws -> ZooKeeperClient)? = reconnecting ? { @Sendable () async throws -> ZooKeeperClient in try await context.client() } : nil
            let member = try GroupMember(client: try await context.client(), membershipPath: group, memberID: id,
                                         payload: Array(id.utf8), reconnect: reconnect)
            let replay = Replay(id)
            let changes = member.changes()
            tasks.append(Task { await replay.follow(changes) })
            try await member.start()
            return (member, replay)
        }
        let m0 = try await join("m0", reconnecting: true)
        let m1 = try await join("m1", reconnecting: false)
        let m2 = try await join("m2", reconnecting: false)
        try await waitFor("every member sees m0, m1, m2", timeout: .seconds(10)) {
            [m0, m1, m2].allSatisfy { Set($0.0.currentMembers().keys) == ["m0", "m1", "m2"] }
        }
        try await context.injectFault(victim: m0.0.node.client)
        await m2.0.node.client.close()  // the process dies: no leave
        let m3 = try await join("m3", reconnecting: false)
        try await context.verifyFault()

        let live = ["m0": m0, "m1": m1, "m3": m3]
        let checker = try await context.client()
        try await converge("every live member's view", timeout: context.sessionTimeout * 2 + .seconds(10)) {
            for (id, (member, replay)) in live.sorted(by: { $0.key < $1.key }) {
                let view = Set(member.currentMembers().keys)
                if view != Set(live.keys) { return "\(id) sees \(view.sorted())" }
                let replayed = replay.state.value.members.union([id])
                if replayed != view { return "\(id)'s change stream replays to \(replayed.sorted())" }
                guard let stat = try await checker.exists(try group.appending(id)) else { return "\(id)'s node missing" }
                if stat.ephemeralOwner != member.node.client.session?.id { return "\(id)'s node not owned by its current session" }
            }
            return nil
        }
        for (member, _) in [m0, m1, m3] { await member.close() }
        await m2.0.close()
        for task in tasks { await task.value }
        let violations = [m0, m1, m2, m3].flatMap { $0.1.state.value.violations }
        if !violations.isEmpty { throw MatrixError(violations.prefix(4).joined(separator: "; ")) }
        if m0.0.node.client.session?.id != context.victimSession { context.note("m0 rejoined on a new session") }
    }
}
