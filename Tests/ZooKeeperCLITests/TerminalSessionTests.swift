import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperServer
import ZooKeeperTestSupport
#if canImport(Glibc)
import Glibc
#endif

// Keys as a terminal sends them.
let enter = "\r", tab = "\t", up = "\u{1B}[A", down = "\u{1B}[B", left = "\u{1B}[D", right = "\u{1B}[C"
let home = "\u{1B}[H", end = "\u{1B}[F", deleteKey = "\u{1B}[3~", backspace = "\u{7F}"
func control(_ letter: Character) -> String {
    String(UnicodeScalar(letter.asciiValue! - 0x60))
}

/// zk-cli on a pseudo-terminal against the embedded server: what the screen shows after keystrokes.
@Suite("zk-cli line editing on a terminal", .timeLimit(.minutes(2)), .enabled(if: zkCliBinary != nil))
struct TerminalSessionTests {
    /// A started zk-cli on a terminal, its home directory, and the server's address.
    struct Fixture {
        let session: TerminalSession
        let home: String
        let server: String
        /// The prompt after `count` commands.
        func prompt(_ count: Int) -> String { "[zk: \(server)(CONNECTED) \(count)] " }
        /// Waits until the cursor's row is prompt `count` followed by `text`.
        func waitForLine(_ count: Int, _ text: String = "") async throws {
            try await session.waitForLine(prompt(count) + text)
        }
        /// Waits until some row reads `line`.
        func waitForOutput(_ line: String) async throws {
            try await session.waitFor("a row \"\(line)\"") { $0.lines.contains(line) }
        }
        var historyFile: [String] {
            ((try? String(contentsOfFile: home + "/.zk-cli_history", encoding: .utf8)) ?? "")
                .split(separator: "\n").map(String.init)
        }
    }

    /// Starts zk-cli (with `home` as HOME, a new one if nil) connected to `server`, waits for its first prompt.
    static func withSession(server: EmbeddedServer, home: String? = nil,
                            _ body: (Fixture) async throws -> Void) async throws {
        let home = home ?? NSTemporaryDirectory() + "shepherd-cli-home-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let session = try TerminalSession(binary: zkCliBinary!, arguments: ["-server", server.connectString], home: home)
        let fixture = Fixture(session: session, home: home, server: server.connectString)
        try await withCleanup({ session.stop() }) {
            try await fixture.waitForLine(0)
            try await body(fixture)
        }
    }

    static func newHome() throws -> String {
        let home = NSTemporaryDirectory() + "shepherd-cli-home-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        return home
    }

    @Test("typing and editing keys change the line on screen; Enter runs it")
    func editing() async throws {
        try await withEmbeddedServer(inMemory: true) { server in
            try await Self.withSession(server: server) { f in
                let s = f.session
                s.type("get /b")
                try await f.waitForLine(0, "get /b")
                s.type(control("a") + "x")
                try await f.waitForLine(0, "xget /b")
                s.type(home + deleteKey)
                try await f.waitForLine(0, "get /b")
                s.type(control("e") + backspace + "a")
                try await f.waitForLine(0, "get /a")
                s.type(left + left + "zz")
                try await f.waitForLine(0, "get zz/a")
                #expect(s.screen.afterCursor == "/a")
                s.type(control("k"))
                try await f.waitForLine(0, "get zz")
                s.type(control("w"))
                try await f.waitForLine(0, "get")
                s.type(control("y") + right + end)
                try await f.waitForLine(0, "get zz")
                s.type(control("u") + "create /a hello" + enter)
                try await f.waitForOutput("Created /a")
                try await f.waitForLine(1)
                s.type("get /a" + enter)
                try await f.waitForOutput("hello")
                try await f.waitForLine(2)
            }
        }
    }

    @Test("Up/Down recall lines, Ctrl-R finds one; the history file keeps them for the next session")
    func history() async throws {
        try await withEmbeddedServer(inMemory: true) { server in
            let home = try Self.newHome()
            defer { try? FileManager.default.removeItem(atPath: home) }
            try await Self.withSession(server: server, home: home) { f in
                let s = f.session
                s.type("create /h1 one" + enter)
                try await f.waitForLine(1)
                s.type("create /h2 two" + enter)
                try await f.waitForLine(2)
                s.type("get /h")
                s.type(up)
                try await f.waitForLine(2, "create /h2 two")
                s.type(up)
                try await f.waitForLine(2, "create /h1 one")
                s.type(down)
                try await f.waitForLine(2, "create /h2 two")
                s.type(down)
                try await f.waitForLine(2, "get /h")
                s.type(control("u") + control("r") + "h1")
                try await s.waitForLine("(reverse-i-search)`h1': create /h1 one")
                s.type(enter)
                try await f.waitForOutput("Node already exists: /h1")
                // The line run from a search is shown after its prompt.
                #expect(s.screen.lines.contains(f.prompt(2) + "create /h1 one"))
                try await f.waitForLine(3)
                s.type(control("r") + "xyz")
                try await s.waitForLine("(failed reverse-i-search)`xyz': ")
                s.type(control("g"))
                try await f.waitForLine(3)
                s.type(" get /h2" + enter)  // a leading space: not recorded
                try await f.waitForOutput("two")
                try await f.waitForLine(4)
                s.type(control("d"))
                #expect(await s.waitForExit() == 0)
                #expect(f.historyFile == ["create /h1 one", "create /h2 two", "create /h1 one"])
            }
            try await Self.withSession(server: server, home: home) { f in
                f.session.type(up)
                try await f.waitForLine(0, "create /h1 one")
                f.session.type(up)
                try await f.waitForLine(0, "create /h2 two")
                f.session.type(control("c"))
                try await f.session.waitFor("^C after the abandoned line") {
                    $0.lines.contains(f.prompt(0) + "create /h2 two^C")
                }
                try await f.waitForLine(0)
                f.session.type("quit" + enter)
                #expect(await f.session.waitForExit() == 0)
            }
        }
    }

    @Test("Tab completes commands, and znode paths from the server as you type")
    func completion() async throws {
        try await withEmbeddedServer(inMemory: true) { server in
            try await withZooKeeperClient(.init(connectionString: server.connectString)) { client in
                try await client.create("/app")
                try await client.create("/app/config", data: Array("v1".utf8))
                try await client.create("/app/cache")
            }
            try await Self.withSession(server: server) { f in
                let s = f.session
                s.type("getAc" + tab)
                try await f.waitForLine(0, "getAcl ")
                s.type(control("u") + "get" + tab)
                try await f.waitForOutput("get                   getAcl                getAllChildrenNumber  getEphemerals")
                try await f.waitForLine(0, "get")
                s.type(" /ap" + tab)
                try await f.waitForLine(0, "get /app")
                s.type(tab)
                try await f.waitForLine(0, "get /app/")
                s.type(tab)  // cache, config: as far as they agree
                try await f.waitForLine(0, "get /app/c")
                s.type(tab)  // nothing more to add: list them
                try await f.waitForOutput("cache   config")
                try await f.waitForLine(0, "get /app/c")
                s.type("o" + tab)
                try await f.waitForLine(0, "get /app/config ")
                s.type(enter)
                try await f.waitForOutput("v1")
                try await f.waitForLine(1)
                // Children are asked for as you type: a node created now completes at once.
                _ = try await withZooKeeperClient(.init(connectionString: server.connectString)) { client in
                    try await client.create("/app/late")
                }
                s.type("ls /app/l" + tab)
                try await f.waitForLine(1, "ls /app/late ")
            }
        }
    }

    @Test("with no server answering, one clear line and exit 1 within the timeout")
    func noServer() async throws {
        // A bound socket that never listens: connections to it are refused.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound)
        let target = "127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        let started = ContinuousClock.now
        let run = try await runTool(zkCliBinary!, ["-server", target, "-timeout", "1000", "ls", "/"], timeout: .seconds(30))
        #expect(run.exitCode == 1)
        #expect(run.output.hasPrefix("zk-cli: no ZooKeeper server answered at \(target) within 1 s (") && run.output.hasSuffix(")\n"))
        #expect(run.output.split(separator: "\n").count == 1, "\(run.output)")
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}

extension TerminalSessionTests {
    @Test("a watch event that fires while a line is typed prints above it; the line stays as typed")
    func eventAboveTheLine() async throws {
        try await withEmbeddedServer(inMemory: true) { server in
            try await Self.withSession(server: server) { f in
                let s = f.session
                s.type("create /w x" + enter)
                try await f.waitForLine(1)
                s.type("get -w /w" + enter)
                try await f.waitForLine(2)
                s.type("ls /")
                try await f.waitForLine(2, "ls /")
                _ = try await withZooKeeperClient(.init(connectionString: server.connectString)) { client in
                    try await client.setData("/w", data: Array("y".utf8))
                }
                let event = "WatchedEvent state:SyncConnected type:NodeDataChanged path:/w"
                try await f.waitForOutput(event)
                try await f.waitForLine(2, "ls /")
                #expect(try #require(s.screen.lines.firstIndex(of: event)) < s.screen.row)
                s.type(left + "x")  // still editing the same line
                try await f.waitForLine(2, "ls x/")
            }
        }
    }
}

extension TerminalSessionTests {
    @Test("raw mode while a line is edited; SIGTERM puts the terminal back (echo, lines) before zk-cli dies")
    func terminalRestored() async throws {
        try await withEmbeddedServer(inMemory: true) { server in
            try await Self.withSession(server: server) { f in
                let s = f.session
                // TCGETS on the master side reads the terminal's (the slave's) mode.
                var mode = termios()
                #expect(tcgetattr(s.master, &mode) == 0)
                #expect(mode.c_lflag & tcflag_t(ICANON | ECHO) == 0)
                kill(s.pid, SIGTERM)
                let status = try #require(await s.waitForStatus())
                #expect(status & 0x7F == SIGTERM)  // killed by the signal, after restoring
                #expect(tcgetattr(s.master, &mode) == 0)
                #expect(mode.c_lflag & tcflag_t(ICANON) != 0 && mode.c_lflag & tcflag_t(ECHO) != 0)
            }
        }
    }
}
