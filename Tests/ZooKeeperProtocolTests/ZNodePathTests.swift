import Testing
import ZooKeeperProtocol

/// Cases from Apache's PathUtilsTest and ClientTest.testPathValidation (release-3.8.4).
@Suite struct ZNodePathTests {
    @Test(arguments: [
        "/", "/this is / a valid/path", "/name/with.period.", "/test\u{20}", "/test\u{7e}", "/test\u{ffef}",
        "/.foo", "/.f.", "/..f", "/..f..", "/f.c", "/f\u{40}f", "/f", "/f/.f", "/f/f.", "/f/..f", "/f/f..",
        "/f/.f/f", "/f/f./f", "/...", "/a/.../b", "/zk/ünïcødé/✓€日本", "/test\u{a0}",
    ])
    func validPaths(path: String) throws {
        #expect(try ZNodePath(path).string == path)
    }

    @Test(arguments: [
        "", "not/valid", "/ends/with/slash/", "/test\u{0}", "/double//slash", "/single/./period",
        "/double/../period", "/test\u{1}", "/test\u{1f}", "/test\u{7f}", "/test\u{9f}", "/test\u{e000}",
        "/test\u{f8ff}", "/test\u{fff0}", "/test\u{ffff}", "//", "///", "////", "/.", "/..", "/./", "/../",
        "/foo/./", "/foo/../", "/foo/.", "/foo/..", "/./.", "/../..", "/\u{1}foo", "/foo/bar/", "/foo//bar",
        "/foo/bar//", "foo", "a", "/createseqpar/",
        // Outside the BMP: Java sees two surrogates (U+D800–U+DFFF) and rejects them.
        "/emoji/😀", "/test\u{10000}",
    ])
    func invalidPaths(path: String) {
        #expect(throws: ZNodePathError.self) { try ZNodePath(path) }
    }

    @Test(arguments: ["/createseqpar/", "/createseqpar/.", "/createseqpar/..", "/", "/lock-"])
    func validSequentialPrefixes(path: String) throws {
        #expect(try ZNodePath(path, sequentialPrefix: true).string == path)
    }

    @Test(arguments: ["/createseqpar//", "/createseqpar/./", "/createseqpar/../", "", "x/", "/a\u{0}"])
    func invalidSequentialPrefixes(path: String) {
        #expect(throws: ZNodePathError.self) { try ZNodePath(path, sequentialPrefix: true) }
    }

    @Test func errorsUseZooKeeperWording() {
        #expect(throws: ZNodePathError(path: "/double//slash", reason: "empty node name specified @8")) {
            try p("/double//slash")
        }
        #expect(throws: ZNodePathError(path: "/a/..", reason: "relative paths not allowed @4")) { try p("/a/..") }
        #expect(throws: ZNodePathError(path: "rel", reason: "Path must start with / character")) { try p("rel") }
        // Java's index counts UTF-16 units: the emoji's first surrogate is at 3.
        #expect(throws: ZNodePathError(path: "/é😀", reason: "invalid character @2")) { try p("/é😀") }
        let error = ZNodePathError(path: "/a//b", reason: "empty node name specified @3")
        #expect(error.description == "Invalid path string \"/a//b\" caused by empty node name specified @3")
    }

    @Test func parentAndName() throws {
        let path = try p("/app/config/leaf")
        #expect(path.name == "leaf")
        #expect(path.parent == (try p("/app/config")))
        #expect(path.parent?.parent == (try p("/app")))
        #expect(path.parent?.parent?.parent == .root)
        #expect(ZNodePath.root.parent == nil)
        #expect(ZNodePath.root.name == "")
        #expect(ZNodePath.root.isRoot)
        #expect(try p("/a").parent == .root)
    }

    @Test func prefixes() throws {
        #expect(try p("/a/b/c").prefixes.map(\.string) == ["/a", "/a/b", "/a/b/c"])
        #expect(try p("/a").prefixes.map(\.string) == ["/a"])
        #expect(ZNodePath.root.prefixes.isEmpty)
    }

    @Test func appending() throws {
        #expect(try ZNodePath.root.appending("a").string == "/a")
        #expect(try p("/a").appending("b").appending("c").string == "/a/b/c")
        #expect(throws: ZNodePathError.self) { try p("/a").appending("") }
        #expect(throws: ZNodePathError.self) { try p("/a").appending("b/c") }
        #expect(throws: ZNodePathError.self) { try p("/a").appending("..") }
        #expect(throws: ZNodePathError.self) { try p("/a").appending(".") }
        #expect(throws: ZNodePathError.self) { try p("/a").appending("x\u{1}") }
        #expect(try p("/a").appending("...").string == "/a/...")
    }

    @Test func descendantsAndOrdering() throws {
        let a = try p("/a")
        #expect(try p("/a/b").isDescendant(of: a))
        #expect(a.isDescendant(of: a))
        #expect(a.isDescendant(of: .root))
        #expect(!(try p("/ab").isDescendant(of: a)))
        #expect(a < (try p("/b")))
        let literal: ZNodePath = "/lit/eral"
        #expect(literal.description == "/lit/eral")
    }
}

/// Validates a runtime string. (`ZNodePath("/literal")` would pick the literal initializer, which traps.)
private func p(_ text: String) throws(ZNodePathError) -> ZNodePath {
    try ZNodePath(text)
}
