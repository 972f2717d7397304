import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

@Suite struct WatchTests {
    @Test func oneShotWatchesFireOnceInApacheOrder() {
        var h = DatabaseHarness()
        h.create("/p")
        h.create("/p/c", "v")
        _ = h.getData("/p/c", watch: true, session: 2)
        _ = h.children("/p", watch: true, session: 3)
        _ = h.children("/p/c", watch: true, session: 4)
        let deleted = h.delete("/p/c")
        // Data watch, then child watch on the node itself (NodeDeleted), then the parent's child event.
        #expect(deleted.events == ["2 NodeDeleted /p/c", "4 NodeDeleted /p/c", "3 NodeChildrenChanged /p"])
        #expect(h.create("/p/c").events == [])
        #expect(h.db.watchCount == 0)
    }

    @Test func existsOnAMissingNodeSetsAWatch() {
        var h = DatabaseHarness()
        let r = h.send(.exists, ExistsRequest(path: "/later", watch: true), session: 5)
        #expect(r.err == .noNode)
        #expect(h.create("/later").events == ["5 NodeCreated /later"])
        _ = h.getData("/later", watch: true, session: 5)
        #expect(h.setData("/later", "x").events == ["5 NodeDataChanged /later"])
    }

    @Test func sameSessionIsNotifiedOncePerEvent() {
        var h = DatabaseHarness()
        h.create("/a")
        _ = h.getData("/a", watch: true, session: 2)
        _ = h.children("/a", watch: true, session: 2)
        #expect(h.delete("/a").events == ["2 NodeDeleted /a"])
        #expect(h.db.watchCount == 0)
    }

    @Test func persistentAndRecursiveWatches() {
        var h = DatabaseHarness()
        h.create("/r")
        h.send(.addWatch, AddWatchRequest(path: "/r", mode: AddWatchMode.persistent.rawValue), session: 2)
        h.send(.addWatch, AddWatchRequest(path: "/r", mode: AddWatchMode.persistentRecursive.rawValue), session: 3)
        #expect(h.db.watchCount == 4)  // each lives in both tables
        #expect(h.create("/r/a").events == ["3 NodeCreated /r/a", "2 NodeChildrenChanged /r"])
        #expect(h.create("/r/a/b").events == ["3 NodeCreated /r/a/b"])
        #expect(h.setData("/r", "x").events == ["2 NodeDataChanged /r", "3 NodeDataChanged /r"])
        #expect(h.setData("/r", "y").events == ["2 NodeDataChanged /r", "3 NodeDataChanged /r"])
        #expect(h.delete("/r/a/b").events == ["3 NodeDeleted /r/a/b"])
        // ZOOKEEPER-4466 (3.8): a one-shot data watch replaces session 2's persistent mode in the data table.
        _ = h.getData("/r", watch: true, session: 2)
        #expect(h.setData("/r", "z").events == ["2 NodeDataChanged /r", "3 NodeDataChanged /r"])
        #expect(h.setData("/r", "w").events == ["3 NodeDataChanged /r"])
        #expect(h.db.tree.childWatches.mode(path: "/r", session: 2) == .persistent)
    }

    @Test func notificationsCarryTheNodeACLForTheReadFilter() {
        // 3.8.4 (CVE-2024-23944): an event is delivered only to a connection that may READ its node;
        // the pipeline filters on the ACL each notification carries (the parent's for children-changed).
        var h = DatabaseHarness()
        let secret: [ACL] = [.world([.create, .delete, .write, .admin])]
        let parentACL: [ACL] = [.world([.read, .create, .delete, .write])]
        h.create("/r", acl: parentACL)
        h.send(.addWatch, AddWatchRequest(path: "/r", mode: AddWatchMode.persistentRecursive.rawValue), session: 2)
        h.send(.addWatch, AddWatchRequest(path: "/r", mode: AddWatchMode.persistent.rawValue), session: 3)
        let created = h.create("/r/s", acl: secret)
        #expect(created.events == ["2 NodeCreated /r/s", "3 NodeChildrenChanged /r"])
        #expect(created.notifications.map(\.acl) == [secret, parentACL])
        #expect(h.setData("/r/s", "x").notifications.map(\.acl) == [secret])
        #expect(h.delete("/r/s").notifications.map(\.acl) == [secret, parentACL])
        #expect(!ACLPolicy.check(secret, perm: .read, ids: []))
    }

    @Test func checkAndRemoveWatches() {
        var h = DatabaseHarness()
        h.create("/a")
        _ = h.getData("/a", watch: true, session: 2)
        func check(_ type: WatcherType, session: Int64 = 2) -> ZooKeeperErrorCode {
            h.send(.checkWatches, CheckWatchesRequest(path: "/a", type: type.rawValue), session: session).err
        }
        #expect(check(.data) == .ok)
        #expect(check(.any) == .ok)
        #expect(check(.children) == .noWatcher)
        // Apache's containsWatcher asks whether anyone watches the path, not whether this session does.
        #expect(check(.data, session: 9) == .ok)
        #expect(check(.children, session: 9) == .noWatcher)
        #expect(check(.persistent) == .marshallingError)  // 3.8 knows types 1...3 only
        #expect(h.send(.removeWatches, RemoveWatchesRequest(path: "/a", type: 1), session: 2).err == .noWatcher)
        #expect(h.send(.removeWatches, RemoveWatchesRequest(path: "/a", type: 3), session: 2).err == .ok)
        #expect(h.setData("/a", "x").events == [])
        h.send(.addWatch, AddWatchRequest(path: "/", mode: 1), session: 4)
        // A recursive watch on an ancestor does not count: only watches on the exact path do.
        #expect(h.send(.checkWatches, CheckWatchesRequest(path: "/a/b", type: 2), session: 4).err == .noWatcher)
        #expect(h.send(.checkWatches, CheckWatchesRequest(path: "/", type: 2), session: 4).err == .ok)
    }

    @Test func setWatchesCatchUp() {
        var h = DatabaseHarness()
        h.create("/same")        // zxid 1
        h.create("/changed")     // 2
        h.create("/kids")        // 3
        h.create("/gone")        // 4
        h.setData("/changed", "x")  // 5
        h.create("/kids/k")      // 6
        h.delete("/gone")        // 7
        let r = h.send(.setWatches, SetWatches(
            relativeZxid: 4, dataWatches: ["/same", "/changed", "/gone"], existWatches: ["/same", "/missing"],
            childWatches: ["/kids", "/same", "/gone"]), session: 8)
        #expect(r.err == .ok && r.response.isEmpty && r.txn == nil)
        #expect(r.events == [
            "8 NodeDataChanged /changed", "8 NodeDeleted /gone", "8 NodeCreated /same",
            "8 NodeChildrenChanged /kids", "8 NodeDeleted /gone",
        ])
        #expect(h.create("/missing").events == ["8 NodeCreated /missing"])
        #expect(h.setData("/same", "y").events == ["8 NodeDataChanged /same"])
        let two = h.send(.setWatches2, SetWatches2(
            relativeZxid: 0, dataWatches: [], existWatches: [], childWatches: [], persistentWatches: ["/same"],
            persistentRecursiveWatches: ["/kids"]), session: 9)
        #expect(two.events == [])  // persistent watches are only re-added
        #expect(h.setData("/kids/k", "z").events == ["9 NodeDataChanged /kids/k"])
    }

    @Test func watchesDieWithTheSessionAndSummariesCountDataWatches() {
        var h = DatabaseHarness()
        h.create("/a")
        _ = h.getData("/a", watch: true, session: 0x10)
        _ = h.children("/a", watch: true, session: 0x10)
        _ = h.send(.exists, ExistsRequest(path: "/b", watch: true), session: 0x11)
        #expect(h.db.watchCount == 3)
        #expect(h.db.watchSummaryText == "2 connections watching 2 paths\nTotal watches:2")
        #expect(h.db.watchesBySessionText == "0x10\n\t/a\n0x11\n\t/b\n")
        #expect(h.db.watchesByPathText == "/a\n\t0x10\n/b\n\t0x11\n")
        h.db.removeWatches(ofSession: 0x10)
        #expect(h.db.watchCount == 1)
        #expect(h.setData("/a", "x").events == [])
    }
}
