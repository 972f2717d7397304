import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

@Suite struct JavaHashSetOrderTests {
    @Test func javaHashCodesMatchJava() {
        #expect(JavaHashSetOrder.javaHashCode("") == 0)
        #expect(JavaHashSetOrder.javaHashCode("abc") == 96354)
        #expect(JavaHashSetOrder.javaHashCode("hello") == 99_162_322)
        #expect(JavaHashSetOrder.javaHashCode("polygenelubricants") == Int32.min)  // the famous overflow
    }

    @Test func tableSizes() {
        #expect(JavaHashSetOrder.tableSizeFor(5) == 8)
        #expect(JavaHashSetOrder.tableSizeFor(17) == 32)
        #expect(JavaHashSetOrder.tableSizeFor(1) == 1)
    }

    @Test func listedInJavaHashSetOrder() {
        // By hand from Java's definitions: "/b".hashCode() = 1555, "/c" = 1556, "/aa" = 48271; a clone
        // of 3 entries has 8 buckets: 1555 & 7 = 3, 1556 & 7 = 4, 48271 & 7 = 7.
        #expect(JavaHashSetOrder.ordered(["/aa", "/c", "/b"]) { _ in 0 } == ["/b", "/c", "/aa"])
        // Same bucket in both tables: creation order.
        #expect(JavaHashSetOrder.ordered(["/a", "/q"]) { $0 == "/q" ? 1 : 2 } == ["/q", "/a"])
    }

    @Test func databaseListsEphemeralsInThatOrder() {
        var h = DatabaseHarness()
        for name in ["a", "b", "c", "d", "e"] { h.create("/" + name, mode: .ephemeral, session: 9) }
        let expected = JavaHashSetOrder.ordered(["/a", "/b", "/c", "/d", "/e"]) { _ in 0 }
        let closed = h.db.closeSession(sessionId: 9, zxid: h.nextZxid, now: h.now)
        #expect(closed.txn?.body == .closeSession(CloseSessionTxn(paths2Delete: expected)))
    }
}
