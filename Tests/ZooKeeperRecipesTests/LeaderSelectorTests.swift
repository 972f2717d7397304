import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

@Suite("LeaderSelector", .timeLimit(.minutes(1)))
struct LeaderSelectorTests {
    @Test("5 sessions with autoRequeue: an independent witness never sees two bodies at once; tokens grow")
    func exclusionUnderContention() async throws {
        try await withRecipeServer { server in
            try await withClients(5, on: server) { clients in
                let path: ZNodePath = "/election/contention"
                let witness = ExclusionWitness()
                let selectors = clients.enumerated().map { LeaderSelector(client: $1, path: path, id: "p\($0)") }
                for (index, selector) in selectors.enumerated() {
                    try await selector.start(autoRequeue: true) { term in
                        witness.enter(index, token: term.fencingToken)
                        // Widen the term with a round trip and a yield.
                        _ = try? await clients[index].exists("/")
                        await Task.yield()
                        witness.exit()
                    }
                }
                try await eventually(within: .seconds(20)) { witness.entries >= 20 }
                for selector in selectors { await selector.close() }
                #expect(witness.violations == 0)
                #expect(Set(witness.order).count > 1, "leadership moved between participants: \(witness.order)")
                let tokens = witness.tokens
                #expect(zip(tokens, tokens.dropFirst()).allSatisfy { $0 < $1 }, "fencing tokens strictly increase: \(tokens)")
                #expect(try await leftovers(clients[0], path).isEmpty, "close leaves no node")
            }
        }
    }

    @Test("participants in order with the leader first (Curator's layout and ids); interruptLeadership hands over")
    func participantsAndInterrupt() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/election/participants"
                let selectors = ["a", "b", "c"].enumerated().map { LeaderSelector(client: clients[$0], path: path, id: $1) }
                let cancelled = Box(0)
                let leading = Box<[String]>([])
                for (index, selector) in selectors.enumerated() {
                    try await selector.start { _ in
                        leading.update { $0.append(selector.id) }
                        try await workUntilCancelled(cancelled)
                    }
                    try await waitForChildren(clients[0], path, count: index + 1)  // join in a known order
                }
                try await eventually(within: .seconds(10)) { leading.get == ["a"] }
                #expect(selectors[0].hasLeadership && !selectors[1].hasLeadership && !selectors[2].hasLeadership)
                #expect(selectors[0].currentTerm?.number == 1)
                let participants = try await selectors[2].participants()
                #expect(participants.map(\.id) == ["a", "b", "c"])
                #expect(participants.map(\.isLeader) == [true, false, false])
                #expect(try await selectors[1].leader()?.id == "a")
                let children = try await clients[0].getChildren(path)
                #expect(children.allSatisfy { $0.hasPrefix("_c_") && $0.contains("-lock-") }, "\(children)")
                let (data, _) = try await clients[0].getData(try path.appending(LockNames.sorted(children)[0]))
                #expect(data == Array("a".utf8), "node data is the participant id")

                selectors[0].interruptLeadership()
                try await eventually(within: .seconds(10)) { leading.get == ["a", "b"] }
                #expect(cancelled.get == 1)
                #expect(!selectors[0].hasLeadership)
                _ = try await clients[2].sync(path)  // maybe another member: read what clients[0] deleted
                #expect(try await selectors[2].participants().map(\.id) == ["b", "c"], "without autoRequeue a stays out")
                #expect(try selectors[0].requeue())
                #expect(try selectors[0].requeue() == false, "already queued")
                try await eventually(within: .seconds(10)) { (try? await selectors[2].participants().map(\.id)) == ["b", "c", "a"] }
                for selector in selectors { await selector.close() }
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("the leader's session expires: its body is cancelled and another participant leads with a larger token")
    func sessionExpiryCancelsBody() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/election/expiry"
                let cancelled = Box(0)
                let first = LeaderSelector(client: clients[0], path: path, id: "first")
                try await first.start(autoRequeue: true) { _ in try await workUntilCancelled(cancelled) }
                try await eventually(within: .seconds(10)) { first.hasLeadership }
                let firstToken = try #require(first.currentTerm).fencingToken
                let secondTerms = Box<[LeaderSelector.Term]>([])
                let second = LeaderSelector(client: clients[1], path: path, id: "second")
                try await second.start { term in
                    secondTerms.update { $0.append(term) }
                    try await workUntilCancelled()
                }
                try await waitForChildren(clients[1], path, count: 2)
                #expect(secondTerms.get.isEmpty)

                try await server.expireSession(clients[0].session)
                try await eventually(within: .seconds(10)) { cancelled.get == 1 && !first.hasLeadership }
                try await eventually(within: .seconds(10)) { secondTerms.get.count == 1 }
                #expect(secondTerms.get[0].fencingToken > firstToken)
                await first.close()
                await second.close()
                #expect(try await leftovers(clients[1], path).isEmpty)
            }
        }
    }

    @Test("a dropped connection cancels the body; the node is released after reconnecting; requeue leads again")
    func droppedConnectionCancelsThenRequeue() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/election/drop"
                let witness = ExclusionWitness()
                let cancelled = Box(0)
                let holder = LeaderSelector(client: clients[0], path: path, id: "holder")
                try await holder.start { term in
                    witness.enter(0, token: term.fencingToken)
                    defer { witness.exit() }
                    try await workUntilCancelled(cancelled)
                }
                try await eventually(within: .seconds(10)) { holder.hasLeadership }
                let other = LeaderSelector(client: clients[1], path: path, id: "other")
                try await other.start { term in
                    witness.enter(1, token: term.fencingToken)
                    defer { witness.exit() }
                    try await workUntilCancelled()
                }
                try await waitForChildren(clients[1], path, count: 2)

                let states = clients[0].connectionStates()
                try await server.dropConnection(of: clients[0])
                try await waitForState(states) { $0 == .reconnected }
                try await eventually(within: .seconds(10)) { cancelled.get == 1 }
                // The holder deleted its node once reconnected; the other participant leads now.
                try await eventually(within: .seconds(10)) { other.hasLeadership }
                #expect(!holder.hasLeadership)
                #expect(try holder.requeue())
                try await waitForChildren(clients[1], path, count: 2)
                await other.close()
                // The term is registered before its body task runs: wait for the body's entry too.
                try await eventually(within: .seconds(10)) { holder.currentTerm?.number == 2 && witness.entries == 3 }
                #expect(witness.violations == 0)
                #expect(witness.order == [0, 1, 0])
                await holder.close()
                #expect(try await leftovers(clients[1], path).isEmpty)
            }
        }
    }

    @Test("a waiting participant whose connection drops keeps its place in the queue")
    func waiterKeepsPlaceAcrossReconnect() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/election/waiter-drop"
                let leader = LeaderSelector(client: clients[0], path: path, id: "leader")
                try await leader.start { _ in try await workUntilCancelled() }
                try await eventually(within: .seconds(10)) { leader.hasLeadership }
                let terms = Box<[LeaderSelector.Term]>([])
                let waiter = LeaderSelector(client: clients[1], path: path, id: "waiter")
                try await waiter.start { term in
                    terms.update { $0.append(term) }
                    try await workUntilCancelled()
                }
                try await waitForChildren(clients[0], path, count: 2)
                let waiterNode = try #require(try await leader.participants().last).nodePath

                let states = clients[1].connectionStates()
                try await server.dropConnection(of: clients[1])
                try await waitForState(states) { $0 == .reconnected }
                #expect(try await leader.participants().map(\.nodePath).last == waiterNode, "same node after reconnecting")
                await leader.close()
                try await eventually(within: .seconds(10)) { terms.get.count == 1 }
                #expect(terms.get[0].nodePath == waiterNode, "it led with the node it queued with")
                await waiter.close()
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("requeue once the term is over is honoured even while the old node's delete is still retried",
          .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's fault injection"))
    func requeueWhileRelinquishing() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let path: ZNodePath = "/election/relinquishing"
                let entered = Box(0)
                let selector = LeaderSelector(client: clients[0], path: path, id: "solo")
                try await selector.start { _ in
                    entered.update { $0 += 1 }
                    try await workUntilCancelled()
                }
                try await eventually(within: .seconds(10)) { entered.get == 1 }
                // The term's node is deleted but the reply is lost (and the connection with it): the attempt
                // retries the delete after reconnecting, while the term is over already.
                await (try server.faults).loseNextReply { opCode, _ in opCode == .delete }
                let states = clients[0].connectionStates()
                selector.interruptLeadership()
                try await waitForState(states) { $0 == .suspended }
                #expect(!selector.hasLeadership)
                #expect(try selector.requeue(), "the term is over: this participant is not queued")
                #expect(try selector.requeue() == false, "already queued")
                try await eventually(within: .seconds(10)) { selector.currentTerm?.number == 2 && entered.get == 2 }
                await selector.close()
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("close while leading cancels the body and releases at once; close while waiting leaves no node")
    func closeReleases() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/election/close"
                let cancelled = Box(0)
                let leader = LeaderSelector(client: clients[0], path: path, id: "leader")
                try await leader.start(autoRequeue: true) { _ in try await workUntilCancelled(cancelled) }
                try await eventually(within: .seconds(10)) { leader.hasLeadership }
                let waiter = LeaderSelector(client: clients[1], path: path, id: "waiter")
                try await waiter.start { _ in try await workUntilCancelled() }
                let next = LeaderSelector(client: clients[2], path: path, id: "next")
                try await waitForChildren(clients[0], path, count: 2)
                try await next.start { _ in try await workUntilCancelled() }
                try await waitForChildren(clients[0], path, count: 3)

                await waiter.close()  // cancels a waiting participant: its node goes before close returns
                _ = try await clients[0].sync(path)  // maybe another member: read what the waiter's client deleted
                #expect(try await leader.participants().map(\.id) == ["leader", "next"])
                await leader.close()
                #expect(cancelled.get == 1, "the body was cancelled")
                #expect(!leader.hasLeadership)
                _ = try await clients[2].sync(path)  // maybe another member: read what the leader's client deleted
                #expect(try await next.participants().map(\.id) == ["next"], "released before close returned")
                try await eventually(within: .seconds(10)) { next.hasLeadership }
                await #expect(throws: RecipeLifecycleError.closed) { try await leader.start { _ in } }
                #expect(throws: LeaderSelectorError.notStarted) { try leader.requeue() }
                await next.close()
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("a body that returns relinquishes; with autoRequeue it leads again when it is its turn")
    func returnRelinquishesAndRequeues() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let path: ZNodePath = "/election/requeue"
                let terms = Box<[Int]>([])
                let selector = LeaderSelector(client: clients[0], path: path, id: "solo")
                #expect(throws: LeaderSelectorError.notStarted) { try selector.requeue() }
                try await selector.start(autoRequeue: true) { term in
                    terms.update { $0.append(term.number) }
                }
                try await eventually(within: .seconds(10)) { terms.get.count >= 3 }
                await selector.close()
                #expect(Array(terms.get.prefix(3)) == [1, 2, 3])
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }
}
