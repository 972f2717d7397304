import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

@Suite struct AuthIdSetTests {
    @Test func addingTheSameIdTwiceKeepsOne() {
        // Apache's ServerCnxn.authInfo is a set: `addauth digest alice:pw` twice lists alice once.
        let ip = Id(scheme: "ip", id: "127.0.0.1")
        let alice = Id.digest(user: "alice", password: "pw-alice")
        var ids = AuthIdSet.inserting(ip, into: [])
        ids = AuthIdSet.inserting(alice, into: ids)
        #expect(AuthIdSet.inserting(alice, into: ids) == ids)
        #expect(Set(ids) == [ip, alice])
    }

    @Test func listedInHashBucketOrderThenInsertionOrder() {
        var ids: [Id] = []
        let added = [Id(scheme: "ip", id: "127.0.0.1"), .digest(user: "alice", password: "pw-alice"),
                     .digest(user: "bob", password: "pw-bob"), Id(scheme: "super", id: "")]
        for id in added { ids = AuthIdSet.inserting(id, into: ids) }
        let buckets = ids.map { AuthIdSet.bucket($0, 16) }
        #expect(buckets == buckets.sorted())
        #expect(Set(ids) == Set(added))
    }
}
