import Testing
import ZooKeeperHTTP

@Suite struct HTTPPathTests {
    @Test func resolvesDotSegmentsInsideTheRoot() throws {
        #expect(try HTTPPath.segments(of: "/") == [""])
        #expect(try HTTPPath.segments(of: "/a/./b/../c") == ["a", "c"])
        #expect(try HTTPPath.segments(of: "/a/b/") == ["a", "b", ""])
        #expect(try HTTPPath.segments(of: "/a%20b?x=/../..") == ["a b"])
        #expect(try HTTPPath.segments(of: "http://host:1/commands") == ["commands"])
    }

    @Test func refusesTraversalAndHiddenSeparators() {
        for target in ["/..", "/../etc/passwd", "/a/../../b", "/%2e%2e/x", "/.%2E/x", "/a%2Fb", "/a%5cb", "/a%00", "/%zz", "*", "etc"] {
            #expect(throws: HTTPParseError.self, "\(target)") { try HTTPPath.segments(of: target) }
        }
        #expect((try? HTTPPath.segments(of: "/../x")) == nil)
        #expect(HTTPParseError.forbiddenPath.status == 400)
    }
}
