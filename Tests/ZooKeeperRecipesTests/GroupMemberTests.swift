import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// Collects a member's changes in the background.
private final class ChangeLog: Sendable {
    private let changes = Box<[MembershipChange]>([])
    private let task = Box<Task<Void, Never>?>(nil)

    init(_ stream: AsyncStream<MembershipChange>) {
        let changes = self.changes
        task.update { $0 = Task { for await change in stream { changes.update { $0.append(change) } } } }
    }

    var all: [MembershipChange] { changes.get }
    func stop() { task.get?.cancel() }
}

/// Folds `changes` until the member ids seen equal `expected` (``GroupMember/currentMembers()`` always
/// includes the member itself, so it cannot tell whether the member's own node has been seen yet).
private func waitForMembers(
    _ changes: AsyncStream<MembershipChange>, _ expected: Set<String>, within: Duration = .seconds(10)
) async throws {
    try await withTimeout(within) {
        var members: Set<String> = []
        for await change in changes {
            switch change {
            case .initial(let all): members = Set(all.keys)
            case .joined(let id, _): members.insert(id)
            case .updated: break
            case .left(let id): members.remove(id)
            }
            if members == expected { return }
        }
        throw TimeoutError(duration: within, what: "the change stream finished")
    }
}

@Suite("GroupMember", .timeLimit(.minutes(1)))
struct GroupMemberTests {
    @Test("three members see each other with payloads; setPayload, leave and join are reported in order")
    func membersSeeEachOther() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let group: ZNodePath = "/cluster/workers"
                let members = try ["a", "b", "c"].enumerated().map { index, id in
                    try GroupMember(client: clients[index], membershipPath: group, memberID: id, payload: Array(id.utf8))
                }
                try await members[0].start()
                let log = ChangeLog(members[0].changes())
                try await members[1].start()
                try await members[2].start()
                let expected: [String: [UInt8]] = ["a": Array("a".utf8), "b": Array("b".utf8), "c": Array("c".utf8)]
                for member in members {
                    try await eventually(within: .seconds(10)) { member.currentMembers() == expected }
                }
                let children = try await clients[0].getChildren(group)
                #expect(children.sorted() == ["a", "b", "c"], "Curator's layout: <membershipPath>/<memberID>")
                #expect(try await clients[0].exists(try group.appending("b"))?.ephemeralOwner == clients[1].session!.id)

                try await members[1].setPayload(Array("b2".utf8))
                try await eventually(within: .seconds(10)) { members[0].currentMembers()["b"] == Array("b2".utf8) }
                await members[2].close()
                try await eventually(within: .seconds(10)) { members[0].currentMembers()["c"] == nil }
                #expect(try await clients[0].exists(try group.appending("c")) == nil, "close deletes the member's node")

                try await eventually(within: .seconds(10)) { log.all.contains(.left("c")) }  // the log lags the state
                let all = log.all
                guard case let .initial(initial)? = all.first else {
                    Issue.record("the first change is the snapshot: \(all)")
                    return
                }
                // start() does not wait for our own node: it is in the snapshot or joins just after.
                #expect(initial["a"] != nil || all.contains(.joined("a", Array("a".utf8))), "\(all)")
                #expect(all.contains(.joined("b", Array("b".utf8))) || initial["b"] != nil)
                #expect(all.contains(.joined("c", Array("c".utf8))))
                #expect(all.contains(.updated("b", Array("b2".utf8))))
                #expect(all.last == .left("c"), "\(all)")
                log.stop()
                await members[0].close()
                await members[1].close()
                #expect(try await leftovers(clients[0], group).isEmpty)
            }
        }
    }

    @Test("a member whose session expires is reported as left by the others")
    func expiredMemberLeaves() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let group: ZNodePath = "/cluster/expiry"
                let watcher = try GroupMember(client: clients[0], membershipPath: group, memberID: "watcher")
                let doomed = try GroupMember(client: clients[1], membershipPath: group, memberID: "doomed")
                try await watcher.start()
                try await doomed.start()
                let changes = watcher.changes()
                try await waitForMembers(changes, ["doomed", "watcher"])
                try await server.expireSession(clients[1].session)
                #expect(try await next(changes) == .left("doomed"))
                #expect(watcher.currentMembers().keys.sorted() == ["watcher"])
                await doomed.close()
                await watcher.close()
            }
        }
    }

    @Test("changes made while a member is cut off are reported after it reconnects",
          .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's fault injection"))
    func resyncAfterPartition() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let group: ZNodePath = "/cluster/resync"
                let observer = try GroupMember(client: clients[0], membershipPath: group, memberID: "observer")
                let leaving = try GroupMember(client: clients[1], membershipPath: group, memberID: "leaving")
                try await observer.start()
                try await leaving.start()
                let changes = observer.changes()
                try await waitForMembers(changes, ["leaving", "observer"])

                let session = try #require(clients[0].session).id
                let states = clients[0].connectionStates()
                await (try server.faults).partition(session: session)
                try await waitForState(states) { $0 == .suspended }
                await leaving.close()
                let joining = try GroupMember(client: clients[2], membershipPath: group, memberID: "joining")
                try await joining.start()
                try await waitForChildren(clients[2], group, count: 2)
                #expect(observer.currentMembers().keys.sorted() == ["leaving", "observer"], "stale while cut off")
                await (try server.faults).heal(session: session)
                try await waitForState(states) { $0 == .reconnected }
                let first = try await next(changes), second = try await next(changes)
                #expect(Set([first, second]) == [.left("leaving"), .joined("joining", [])], "\([first, second])")
                #expect(observer.currentMembers().keys.sorted() == ["joining", "observer"])
                await joining.close()
                await observer.close()
            }
        }
    }

    @Test("with a reconnect factory a member rejoins after session loss and keeps following the group")
    func rejoinsAfterSessionLoss() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let group: ZNodePath = "/cluster/rejoin"
                let made = ClientFactory(server)  // every client it makes, for the checks and closing
                let phoenix = try GroupMember(client: try await made.connect(), membershipPath: group, memberID: "phoenix",
                                              payload: Array("p".utf8), reconnect: { try await made.connect() })
                let other = try GroupMember(client: clients[0], membershipPath: group, memberID: "other")
                try await phoenix.start()
                try await other.start()
                try await eventually(within: .seconds(10)) { phoenix.currentMembers().keys.sorted() == ["other", "phoenix"] }
                _ = try await clients[1].sync(group)  // maybe another member: read what phoenix's client created
                let oldSession = try #require(try await clients[1].exists(try group.appending("phoenix"))).ephemeralOwner
                try await server.expireSession(made.clients[0].session)
                try await eventually(within: .seconds(10)) {
                    guard let stat = try? await clients[1].exists(try group.appending("phoenix")) else { return false }
                    return stat.ephemeralOwner != oldSession
                }
                #expect(made.clients.count == 2)
                // The new cache follows the group: a member joining now is seen.
                let late = try GroupMember(client: clients[1], membershipPath: group, memberID: "late")
                try await late.start()
                try await eventually(within: .seconds(10)) {
                    phoenix.currentMembers().keys.sorted() == ["late", "other", "phoenix"]
                }
                try await eventually(within: .seconds(10)) { other.currentMembers()["phoenix"] == Array("p".utf8) }
                await late.close()
                await other.close()
                await phoenix.close()
                #expect(try await leftovers(clients[1], group).isEmpty)
                for client in made.clients { await client.close() }
            }
        }
    }

    @Test("an invalid member id is refused")
    func invalidMemberID() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                #expect(throws: ZNodePathError.self) {
                    try GroupMember(client: clients[0], membershipPath: "/g", memberID: "a/b")
                }
                #expect(throws: ZNodePathError.self) { try GroupMember(client: clients[0], membershipPath: "/g", memberID: "") }
            }
        }
    }
}
