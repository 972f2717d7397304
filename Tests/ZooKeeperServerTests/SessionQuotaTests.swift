import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

@Suite struct SessionTests {
    @Test func closeSessionDeletesEphemeralsAndNotifiesOthers() {
        var h = DatabaseHarness()
        let created = h.db.createSession(sessionId: 0x5, timeout: 4_000, zxid: h.nextZxid, now: h.now)
        h.nextZxid += 1
        #expect(created.body == .createSession(CreateSessionTxn(timeOut: 4_000)) && h.db.sessions[0x5] == 4_000)
        h.create("/e1", mode: .ephemeral, session: 0x5)
        h.create("/e2", mode: .ephemeralSequential, session: 0x5)
        _ = h.getData("/e1", watch: true, session: 0x6)
        _ = h.getData("/e1", watch: true, session: 0x5)
        _ = h.children("/", watch: true, session: 0x6)
        let closed = h.db.closeSession(sessionId: 0x5, zxid: h.nextZxid, now: h.now)
        // Apache's HashSet order (JavaHashSetOrder), not creation order.
        #expect(closed.txn?.body == .closeSession(CloseSessionTxn(paths2Delete: ["/e20000000001", "/e1"])))
        // The closing session's own watch fires as well (Apache removes watches after applying the close).
        #expect(closed.events == ["6 NodeChildrenChanged /", "5 NodeDeleted /e1", "6 NodeDeleted /e1"])
        #expect(h.db.ephemeralCount == 0 && h.db.sessions.isEmpty && h.db.watchCount == 0)
        #expect(h.db.lastProcessedZxid == closed.txn?.header.zxid)
        #expect(h.db.ephemeralsDumpText == "Sessions with Ephemerals (0):\n")
    }
}

@Suite struct ContainerTTLTests {
    @Test func containerManagerCandidates() {
        var h = DatabaseHarness(extendedTypesEnabled: true)
        h.create("/used", mode: .container, opCode: .createContainer)
        h.create("/used/x")
        h.delete("/used/x")
        h.create("/fresh", mode: .container, opCode: .createContainer)
        h.create("/busy", mode: .container, opCode: .createContainer)
        h.create("/busy/x")
        h.createTTL("/ttl", ttl: 500)
        #expect(h.db.expiredContainersAndTTLs(now: h.now + 500) == ["/used"])
        #expect(h.db.expiredContainersAndTTLs(now: h.now + 501) == ["/ttl", "/used"])
        #expect(h.db.expiredContainersAndTTLs(now: h.now + 10, maxNeverUsedIntervalMs: 5) == ["/fresh", "/used"])
        let delete = h.db.process(ZooKeeperDatabase.deleteContainerRequest(path: "/used"), zxid: h.nextZxid, now: h.now)
        h.nextZxid += 1
        #expect(delete.err == .ok && delete.txn?.body == .deleteContainer(DeleteTxn(path: "/used")))
        let busy = h.db.process(ZooKeeperDatabase.deleteContainerRequest(path: "/busy"), zxid: h.nextZxid, now: h.now)
        #expect(busy.err == .notEmpty)
    }

    @Test func deleteContainerRefusesEphemerals() {
        var h = DatabaseHarness()
        h.create("/e", mode: .ephemeral)
        let r = h.db.process(ZooKeeperDatabase.deleteContainerRequest(path: "/e"), zxid: h.nextZxid, now: h.now)
        #expect(r.err == .badVersion)
    }
}

@Suite struct QuotaTests {
    /// What `setquota -N 3 /app` leaves in the tree.
    mutating func setQuota(_ h: inout DatabaseHarness, limits: String) {
        h.create("/zookeeper/quota/app")
        h.create("/zookeeper/quota/app/zookeeper_limits", limits)
        h.create("/zookeeper/quota/app/zookeeper_stats", "count=0,bytes=0")
    }

    func stats(_ h: inout DatabaseHarness) -> String {
        String(decoding: h.getData("/zookeeper/quota/app/zookeeper_stats").1?.data ?? [], as: UTF8.self)
    }

    @Test mutating func statsTrackTheSubtree() {
        var h = DatabaseHarness()
        h.create("/app", "abc")
        h.create("/app/x", "12")
        setQuota(&h, limits: "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3")
        #expect(stats(&h) == "count=2,bytes=5")  // recounted when the stat node is created
        h.create("/app/y", "1")
        #expect(stats(&h) == "count=3,bytes=6")
        h.setData("/app/y", "1234")
        #expect(stats(&h) == "count=3,bytes=9")
        h.delete("/app/x")
        #expect(stats(&h) == "count=2,bytes=7")
        #expect(h.db.tree.maxPrefixWithQuota("/app/y/z") == "/app")
        #expect(h.db.tree.maxPrefixWithQuota("/apple") == nil)
    }

    @Test mutating func hardLimitsOnlyWithEnforcement() {
        var h = DatabaseHarness(enforceQuota: true)
        h.create("/app")
        setQuota(&h, limits: "count=-1,bytes=-1=;byteHardLimit=10;countHardLimit=2")
        #expect(h.create("/app/a").err == .ok)
        #expect(h.create("/app/b").err == .quotaExceeded)
        #expect(h.setData("/app", "12345678901").err == .quotaExceeded)
        #expect(h.setData("/app", "1234567890").err == .ok)
        var off = DatabaseHarness()
        off.create("/app")
        setQuota(&off, limits: "count=-1,bytes=-1=;byteHardLimit=10;countHardLimit=2")
        #expect(off.create("/app/a").err == .ok)
        #expect(off.create("/app/b").err == .ok)
    }

    @Test mutating func softLimitsWarnOnly() {
        var h = DatabaseHarness(enforceQuota: true)
        h.create("/app")
        setQuota(&h, limits: "count=1,bytes=-1")
        let r = h.create("/app/a")
        #expect(r.err == .ok && r.quotaWarnings == ["Quota exceeded: /app [current count=2, softCountLimit=1]"])
    }

    /// Found by the request-path fuzzer: stats text at the edge of Int64 (anyone may write it) made the
    /// next create or delete below the quota trap the server. Java's long wraps; so do we.
    @Test mutating func countersAtTheEdgesWrapInsteadOfTrapping() {
        for enforce in [false, true] {
            var h = DatabaseHarness(enforceQuota: enforce)
            h.create("/app")
            setQuota(&h, limits: "count=1,bytes=1=;countHardLimit=-1;byteHardLimit=-1")
            #expect(h.setData("/zookeeper/quota/app/zookeeper_stats", "count=9223372036854775807,bytes=9223372036854775807").err == .ok)
            #expect(h.create("/app/a", "x").err == .ok)
            #expect(stats(&h) == "count=-9223372036854775808,bytes=-9223372036854775808")
            #expect(h.delete("/app/a").err == .ok)
            #expect(stats(&h) == "count=9223372036854775807,bytes=9223372036854775807")
            var replayed = ZooKeeperDatabase(enforceQuota: enforce)
            for txn in h.log { replayed.replay(txn) }
            #expect(replayed.tree.node("/zookeeper/quota/app/zookeeper_stats")?.data == h.db.tree.node("/zookeeper/quota/app/zookeeper_stats")?.data)
        }
    }

    @Test func statsTrackFormat() {
        var track = StatsTrack(Array("count=5,bytes=-1=;byteHardLimit=1000;countHardLimit=-1".utf8))
        #expect(track.count == 5 && track.bytes == -1 && track.byteHardLimit == 1000 && track.countHardLimit == -1)
        #expect(track.text == "count=5,bytes=-1=;byteHardLimit=1000;countHardLimit=-1")
        track = StatsTrack(Array("count=1,bytes=1".utf8))
        #expect(track.text == "count=1,bytes=1")
    }
}
