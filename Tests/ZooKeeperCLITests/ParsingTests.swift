import Testing
import ZooKeeperCLI
import ZooKeeperProtocol

@Suite("zk-cli parsing and formatting")
struct ParsingTests {
    @Test("tokenizer: spaces, tabs, double and single quotes, empty quoted word")
    func tokenizer() {
        #expect(tokenizeCommandLine("create  /a\thello") == ["create", "/a", "hello"])
        #expect(tokenizeCommandLine("set /a \"two words\"") == ["set", "/a", "two words"])
        #expect(tokenizeCommandLine("set /a 'x y' z") == ["set", "/a", "x y", "z"])
        #expect(tokenizeCommandLine("set /n \"\"") == ["set", "/n", ""])
        #expect(tokenizeCommandLine("   ") == [])
    }

    @Test("options anywhere, valued options, unknown option and missing value")
    func options() throws {
        let parsed = try parseOptions(["/a", "-b", "10", "-s"], flags: ["s"], valued: ["b"])
        #expect(parsed.arguments == ["/a"])
        #expect(parsed.values["b"] == "10")
        #expect(parsed.has("s"))
        #expect(throws: OptionError.unknownOption("-x")) { try parseOptions(["-x", "/a"], flags: ["s"], valued: []) }
        #expect(throws: OptionError.missingValue("v")) { try parseOptions(["/a", "-v"], flags: [], valued: ["v"]) }
        #expect(try parseOptions(["set", "/a", "-1"], flags: [], valued: []).arguments == ["set", "/a", "-1"])
        #expect(try parseOptions(["--json", "/a"], flags: [], valued: []).has("json"))
    }

    @Test("path errors in zkCli's words")
    func paths() {
        #expect(zkCliPathError("/a/b") == nil)
        #expect(zkCliPathError("/") == nil)
        #expect(zkCliPathError("bad") == "Path must start with / character")
        #expect(zkCliPathError("/a/") == "Path must not end with / character")
        #expect(zkCliPathError("/a/", sequential: true) == nil)
        #expect(zkCliPathError("/x//y") == "Invalid path string \"/x//y\" caused by empty node name specified @3")
        #expect(zkCliPathError("/a/./b") == "Invalid path string \"/a/./b\" caused by relative paths not allowed @3")
        #expect(zkCliPathError("/a/../b") == "Invalid path string \"/a/../b\" caused by relative paths not allowed @4")
        #expect(zkCliPathError("") == "Path length must be > 0")
    }

    @Test("ACL text: parse with zkCli's messages, print as 'scheme,'id / : perms")
    func acls() {
        var messages: [String] = []
        let acl = ACLText.parse("world:anyone:cdrwa,digest:u:h=:r", messages: &messages)
        #expect(messages.isEmpty)
        #expect(acl == [ACL(perms: .all, id: Id(scheme: "world", id: "anyone")),
                        ACL(perms: .read, id: Id(scheme: "digest", id: "u:h="))])
        #expect(ACLText.lines(acl) == ["'world,'anyone", ": cdrwa", "'digest,'u:h=", ": r"])
        messages = []
        #expect(ACLText.parse("bad", messages: &messages).isEmpty)
        #expect(messages == ["bad does not have the form scheme:id:perm"])
        messages = []
        let partial = ACLText.parse("world:anyone:zr", messages: &messages)
        #expect(messages == ["Unknown perm type: z"])
        #expect(partial.first?.perms == .read)
    }

    @Test("Stat lines and Java's Date.toString shape")
    func stat() {
        let stat = Stat(czxid: 0x4a, mzxid: 0x4b, ctime: 0, mtime: 1_700_000_000_000, version: 2, cversion: 1,
                        aversion: 0, ephemeralOwner: -1, dataLength: 5, numChildren: 3, pzxid: 0x4c)
        let lines = StatPrinter.lines(stat)
        #expect(lines.count == 11)
        #expect(lines[0] == "cZxid = 0x4a")
        #expect(lines[2] == "mZxid = 0x4b")
        #expect(lines[4] == "pZxid = 0x4c")
        #expect(lines[6] == "dataVersion = 2")
        #expect(lines[8] == "ephemeralOwner = 0xffffffffffffffff")
        #expect(lines[10] == "numChildren = 3")
        let date = StatPrinter.javaDate(milliseconds: 1_700_000_000_000)
        #expect(date.wholeMatch(of: /[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ \d{4}/) != nil, "\(date)")
    }

    @Test("quota limits text round-trips in the legacy-compatible format")
    func quota() {
        var limits = QuotaLimits()
        limits.count = 5
        #expect(limits.text == "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1")
        let parsed = QuotaLimits(parsing: "count=5,bytes=-1=;byteHardLimit=1000;countHardLimit=-1")
        #expect(parsed.count == 5 && parsed.byteHardLimit == 1000 && parsed.bytes == -1)
    }

    @Test("JSON strings are escaped")
    func json() {
        #expect(jsonString("a\"b\\c\n\u{01}") == #""a\"b\\c\n\u0001""#)
    }
}
