import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

@Suite("Basic operations against the test server", .enabled(if: integrationEnabled, integrationSkipReason), .timeLimit(.minutes(1)))
struct BasicOperationTests {
    @Test("create, getData, setData, exists, getChildren, delete")
    func crud() async throws {
        try await withTestClient("crud") { zk, _ in
            let created = try await zk.create("/a", data: bytes("hello"))
            #expect(created == "/a")
            let (data, stat) = try await zk.getData("/a")
            #expect(data == bytes("hello"))
            #expect(stat.version == 0)
            #expect(stat.dataLength == 5)
            #expect(stat.czxid == stat.mzxid)
            let newStat = try await zk.setData("/a", data: bytes("bye"), version: 0)
            #expect(newStat.version == 1)
            #expect(newStat.mzxid > stat.mzxid)
            try await zk.create("/a/b")
            try await zk.create("/a/c")
            #expect(try await zk.getChildren("/a").sorted() == ["b", "c"])
            #expect(try await zk.exists("/a")?.numChildren == 2)
            #expect(try await zk.exists("/nope") == nil)
            try await zk.delete("/a/b")
            try await zk.delete("/a/c", version: 0)
            try await zk.delete("/a")
            #expect(try await zk.exists("/a") == nil)
        }
    }
}
