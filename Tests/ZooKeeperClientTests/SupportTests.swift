import Foundation
import Synchronization
import Testing

@testable import ZooKeeperTestSupport

#if canImport(Glibc)
import Glibc
#endif

private let apacheMissing = Comment(rawValue: ApacheZooKeeper.notInstalledMessage)

/// Raw-socket helpers for observing the fixtures from the outside (bounded: 5 s).
private enum Raw {
    static func connect(_ port: Int) throws -> RawConnection { try RawConnection(port: port) }

    static func isRefused(_ port: Int) -> Bool {
        do {
            _ = try connect(port)
            return false
        } catch {
            return "\(error)".contains("Connection refused")
        }
    }
}

@Suite("Apache ZooKeeper launcher", .enabled(if: ApacheZooKeeper.isInstalled, apacheMissing))
struct ApacheZooKeeperTests {
    @Test func startStopRestartKill() async throws {
        let server = try ApacheZooKeeper(configuration: .init(tickTime: 500, minSessionTimeout: 1000, maxSessionTimeout: 5000))
        defer { server.cleanup() }
        try await server.start()
        let port = server.port
        #expect(server.connectString == "127.0.0.1:\(port)")
        #expect(try sendFourLetterWord("ruok", host: "127.0.0.1", port: port, timeout: .seconds(5)) == "imok")
        let srvr = try sendFourLetterWord("srvr", host: "127.0.0.1", port: port, timeout: .seconds(5))
        #expect(srvr.contains("Mode: standalone"), "\(srvr)")
        let conf = try sendFourLetterWord("conf", host: "127.0.0.1", port: port, timeout: .seconds(5))
        #expect(conf.contains("tickTime=500"), "\(conf)")
        #expect(conf.contains("maxSessionTimeout=5000"), "\(conf)")
        let firstPid = try #require(server.pid)

        try await server.stop()
        #expect(server.pid == nil)
        #expect(!server.isRunning)
        #expect(Glibc.kill(firstPid, 0) == -1 && errno == ESRCH, "JVM \(firstPid) still exists after stop")
        #expect(Raw.isRefused(port))

        try await server.restart()
        #expect(server.port == port)
        #expect(try sendFourLetterWord("ruok", host: "127.0.0.1", port: port, timeout: .seconds(5)) == "imok")
        let secondPid = try #require(server.pid)
        #expect(secondPid != firstPid)

        try await server.kill()
        #expect(Glibc.kill(secondPid, 0) == -1 && errno == ESRCH)
        #expect(Raw.isRefused(port))
        #expect(server.logTail().contains("ZooKeeperServer"), "\(server.logTail())")

        server.cleanup()
        #expect(!FileManager.default.fileExists(atPath: server.directory))
    }

    @Test func sharedFixtureIsStartedOnceAndReused() async throws {
        guard case .apacheStandalone = try TestServerTarget.current else { return }
        async let first = TestServerFixture.shared()
        async let second = TestServerFixture.shared()
        let (a, b) = try await (first, second)
        #expect(a === b)
        #expect(a.allowsFaultInjection)
        let port = try #require(Int(a.connectString.split(separator: ":").last ?? ""))
        #expect(try sendFourLetterWord("ruok", host: "127.0.0.1", port: port, timeout: .seconds(5)) == "imok")
        #expect(try await TestServerFixture.shared() === a)
    }

    /// The lifeline reaper kills its victim and removes the directory when the write end of its
    /// pipe closes, which is what the kernel does when the test process dies.
    @Test func lifelineReaperKillsWhenTheWriteEndCloses() async throws {
        let directory = NSTemporaryDirectory() + "shepherd-reaper-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let victim = try ChildProcess.spawn(path: "/usr/bin/tail", arguments: ["-f", "/dev/null"], input: .devNull, outputFile: nil)
        let ends = try ChildProcess.makeLifelinePipe()
        let reaper = try ChildProcess.spawn(
            path: "/bin/sh", arguments: ["-c", ApacheZooKeeper.reaperScript, "reaper", String(victim), directory],
            input: .descriptor(ends.read), outputFile: nil)
        close(ends.read)
        #expect(ChildProcess.tryReap(victim) == nil)
        close(ends.write)
        // We are the victim's parent here, so we reap it (in real use init does).
        #expect(await ChildProcess.waitForExit(victim, within: .seconds(10)))
        #expect(await ChildProcess.waitForExit(reaper, within: .seconds(15)))
        #expect(!FileManager.default.fileExists(atPath: directory))
    }
}

@Suite("Test fixture helpers")
struct FixtureHelperTests {
    @Test func uniqueChroots() {
        let handle = TestServerHandle(target: .external(connectString: "h:1"), connectString: "h:1", apache: nil)
        let a = handle.uniqueChroot("watch/tests 1")
        let b = handle.uniqueChroot("watch/tests 1")
        #expect(a != b)
        #expect(a.hasPrefix("/shepherd-tests/watch-tests-1-"))
        #expect(a.count == "/shepherd-tests/watch-tests-1-".count + 16)
        #expect(handle.connectString(chroot: a) == "h:1" + a)
        #expect(!handle.allowsFaultInjection)
    }

    @Test func externalTargetRefusesFaults() async throws {
        let handle = TestServerHandle(target: .external(connectString: "h:1"), connectString: "h:1", apache: nil)
        await #expect(throws: TestSupportError.self) { try await handle.restart() }
    }

    @Test func eventuallyPassesAndTimesOut() async throws {
        let calls = Counter()
        try await eventually(within: .seconds(5), pollEvery: .milliseconds(1)) { calls.increment() >= 3 }
        await #expect(throws: TimeoutError.self) {
            try await eventually(within: .milliseconds(50)) { false }
        }
    }

    @Test func withTimeoutReturnsOrThrows() async throws {
        #expect(try await withTimeout(.seconds(5)) { 42 } == 42)
        await #expect(throws: TimeoutError.self) {
            try await withTimeout(.milliseconds(50)) {
                try await suspendUntilCancelled()
                return 0
            }
        }
    }
}

private final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}

@Suite("Misbehaving server", .timeLimit(.minutes(1)))
struct MisbehavingServerTests {
    @Test func garbage() throws {
        let junk: [UInt8] = (0..<300).map { _ in UInt8.random(in: 0 ... .max) }
        let server = try MisbehavingServer(mode: .garbage(junk))
        defer { server.stop() }
        let connection = try Raw.connect(server.port)
        try connection.write([0, 0, 0, 4, 1, 2, 3, 4])
        #expect(try connection.readToEnd() == junk)
    }

    @Test func oversizedFrame() throws {
        let server = try MisbehavingServer(mode: .oversizedFrame(length: 0x7FFF_0000))
        defer { server.stop() }
        let connection = try Raw.connect(server.port)
        #expect(try connection.read(4) == [0x7F, 0xFF, 0x00, 0x00])
        #expect(try connection.read(16).count == 16)
        #expect(try !connection.isReadable(within: .milliseconds(100)), "connection should stay open")
    }

    @Test func closeImmediately() throws {
        let server = try MisbehavingServer(mode: .closeImmediately)
        defer { server.stop() }
        let connection = try Raw.connect(server.port)
        #expect(try connection.readToEnd().isEmpty)
        #expect(server.acceptedConnections == 1)
    }

    @Test func closeAfterFirstFrame() async throws {
        let server = try MisbehavingServer(mode: .closeAfterFirstFrame)
        defer { server.stop() }
        let connection = try Raw.connect(server.port)
        try connection.write([0, 0, 0, 3, 9, 9])
        #expect(try !connection.isReadable(within: .milliseconds(100)), "must wait for the whole frame")
        try connection.write([9])
        #expect(try connection.readToEnd().isEmpty)
        #expect(server.bytesReceived == 7)
    }

    @Test func silent() async throws {
        let server = try MisbehavingServer(mode: .silent)
        defer { server.stop() }
        let connection = try Raw.connect(server.port)
        try connection.write(Array(repeating: 7, count: 1000))
        try await eventually(within: .seconds(5)) { server.bytesReceived == 1000 }
        #expect(try !connection.isReadable(within: .milliseconds(100)))
    }

    @Test func stopClosesListenerAndConnections() throws {
        let server = try MisbehavingServer(mode: .silent)
        let connection = try Raw.connect(server.port)
        let port = server.port
        server.stop()
        server.stop()  // idempotent
        #expect(try connection.readToEnd().isEmpty, "held connection closed by stop()")
        #expect(Raw.isRefused(port))
    }
}
