import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

@Suite("multi and multiRead", .enabled(if: integrationEnabled, integrationSkipReason), .timeLimit(.minutes(1)))
struct MultiTests {
    @Test("create/setData/check/delete in one transaction, with per-op results")
    func successfulMulti() async throws {
        try await withTestClient("multi-ok") { zk, _ in
            try await zk.create("/existing", data: bytes("old"))
            try await zk.create("/doomed")
            let results = try await zk.multi([
                .create("/a", data: bytes("A")),
                .create("/a/b"),
                .setData("/existing", data: bytes("new"), version: 0),
                .check("/existing", version: 1),
                .delete("/doomed", version: 0),
                .create("/seq-", mode: .persistentSequential),
            ])
            try #require(results.count == 6)
            // create results carry the path; the stat is nil on servers before 3.8.2 (ZOOKEEPER-4026).
            guard case let .create(path, stat) = results[0] else { Issue.record("\(results[0])"); return }
            #expect(path == "/a")
            if let stat { #expect(stat.dataLength == 1 && stat.version == 0) }
            guard case .create("/a/b", _) = results[1] else { Issue.record("\(results[1])"); return }
            guard case let .setData(setStat) = results[2] else { Issue.record("\(results[2])"); return }
            #expect(setStat.version == 1 && setStat.dataLength == 3)
            #expect(results[3] == .check)
            #expect(results[4] == .delete)
            guard case let .create(sequential, _) = results[5] else { Issue.record("\(results[5])"); return }
            #expect(sequential.hasPrefix("/seq-") && sequential.count == "/seq-".count + 10)

            #expect(try await zk.getData("/a").data == bytes("A"))
            #expect(try await zk.getData("/existing").data == bytes("new"))
            #expect(try await zk.exists("/doomed") == nil)
            #expect(try await zk.getChildren("/a") == ["b"])
            // All ops share one zxid.
            let created = try #require(try await zk.exists("/a"))
            #expect(created.czxid == setStat.mzxid)
        }
    }

    @Test("a failing op applies nothing and reports Apache's per-op results")
    func failedMulti() async throws {
        try await withTestClient("multi-fail") { zk, _ in
            try await zk.create("/x", data: bytes("x"))
            let before = try #require(try await zk.exists("/x"))
            let error = await #expect(throws: ZooKeeperError.self) {
                try await zk.multi([
                    .create("/new"),
                    .setData("/x", data: bytes("changed")),
                    .check("/x", version: 5),
                    .delete("/x"),
                    .create("/other"),
                ])
            }
            #expect(error?.code == .badVersion)
            #expect(error?.path == "/x")
            #expect(error?.operationResults == [
                .error(.ok), .error(.ok), .error(.badVersion), .error(.runtimeInconsistency), .error(.runtimeInconsistency),
            ])
            #expect(try await zk.exists("/new") == nil)
            #expect(try await zk.exists("/other") == nil)
            let after = try #require(try await zk.exists("/x"))
            #expect(after == before)
            #expect(try await zk.getData("/x").data == bytes("x"))

            // The first op failing: nothing before it, everything after is rolled back.
            let first = await #expect(throws: ZooKeeperError.self) {
                try await zk.multi([.create("/x"), .delete("/x")])
            }
            #expect(first?.code == .nodeExists && first?.path == "/x")
            #expect(first?.operationResults == [.error(.nodeExists), .error(.runtimeInconsistency)])
            // A later op failing because of an earlier one in the same transaction.
            let dependent = await #expect(throws: ZooKeeperError.self) {
                try await zk.multi([.delete("/x"), .setData("/x", data: [])])
            }
            #expect(dependent?.code == .noNode && dependent?.path == "/x")
            #expect(dependent?.operationResults == [.error(.ok), .error(.noNode)])
            #expect(try await zk.exists("/x") != nil)
        }
    }

    @Test("a multi can create an ephemeral node, owned by the session")
    func ephemeralInMulti() async throws {
        try await withTestClient("multi-eph") { zk, context in
            let results = try await withOtherClient(context) { other in
                let results = try await other.multi([.create("/p"), .create("/p/e", mode: .ephemeral)])
                _ = try await zk.sync("/")  // maybe another member: read what `other` did
                let stat = try #require(try await zk.exists("/p/e"))
                #expect(stat.ephemeralOwner == other.session?.id)
                #expect(try await other.getEphemerals() == ["/p/e"])
                return results
            }
            guard case .create("/p/e", _) = results[1] else { Issue.record("\(results)"); return }
            // Closing the session removed the ephemeral but not its persistent sibling.
            _ = try await zk.sync("/")
            #expect(try await zk.exists("/p/e") == nil)
            #expect(try await zk.exists("/p") != nil)
        }
    }

    @Test("multiRead returns per-op results: a missing node is an error, the others succeed")
    func multiRead() async throws {
        try await withTestClient("multi-read") { zk, _ in
            try await zk.create("/a", data: bytes("A"))
            try await zk.create("/a/k1")
            try await zk.create("/a/k2")
            let results = try await zk.multiRead([
                .getData("/a"), .getChildren("/a"), .getData("/missing"), .getChildren("/missing"), .getData("/a/k1"),
            ])
            try #require(results.count == 5)
            guard case let .data(data, stat) = results[0] else { Issue.record("\(results[0])"); return }
            #expect(data == bytes("A") && stat.numChildren == 2)
            guard case let .children(children) = results[1] else { Issue.record("\(results[1])"); return }
            #expect(children.sorted() == ["k1", "k2"])
            #expect(results[2] == .error(.noNode))
            #expect(results[3] == .error(.noNode))
            guard case .data([], _) = results[4] else { Issue.record("\(results[4])"); return }
        }
    }

    @Test("an empty multi or multiRead returns []")
    func emptyMulti() async throws {
        try await withTestClient("multi-empty") { zk, _ in
            let writes = try await zk.multi([])
            let reads = try await zk.multiRead([])
            #expect(writes.isEmpty && reads.isEmpty)
            #expect(zk.connectionState == .connected)
        }
    }
}
