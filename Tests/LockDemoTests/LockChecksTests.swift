import Testing
@testable import lock_demo

@Suite("lock-demo checks")
struct LockChecksTests {
    private func section(_ number: Int64, _ enter: Int64, _ exit: Int64, token: Int64? = nil) -> Acquisition {
        Acquisition(orderNumber: number, enterNanos: enter, exitNanos: exit, waitNanos: 0, fencingToken: token ?? number * 10)
    }

    @Test("a clean, serial run passes")
    func cleanRun() {
        let checks = LockChecks(sections: [section(1, 0, 10), section(2, 11, 20), section(3, 20, 30)], finalCounter: 4)
        #expect(checks.passed)
    }

    @Test("duplicates, gaps and overlaps are each found")
    func brokenRun() {
        let checks = LockChecks(sections: [section(1, 0, 10), section(1, 5, 12), section(3, 13, 20)], finalCounter: 4)
        #expect(checks.duplicates == [1])
        #expect(checks.gaps == [2])
        #expect(checks.overlaps.count == 1)
        #expect(!checks.passed)
    }

    @Test("an overlap hidden behind a long earlier section is found")
    func nestedOverlap() {
        // 1 spans 0...100; 2 ends at 20; 3 enters at 50, still inside 1.
        let checks = LockChecks(sections: [section(1, 0, 100), section(2, 10, 20), section(3, 50, 60)], finalCounter: 4)
        #expect(checks.overlaps.count == 2)
    }

    @Test("a fencing token that goes backwards is a regression")
    func fencing() {
        let checks = LockChecks(sections: [section(1, 0, 10, token: 50), section(2, 11, 20, token: 40)], finalCounter: 3)
        #expect(checks.fencingRegressions == 1)
        #expect(!checks.passed)
    }

    @Test("the counter must end one past the highest number")
    func counter() {
        #expect(LockChecks(sections: [section(1, 0, 10)], finalCounter: 5).counterMismatch != nil)
    }

    @Test("worker lines round-trip; junk is rejected")
    func messages() {
        let acquisition = section(7, 100, 200)
        for message in [WorkerMessage.ready(session: 42, timeoutMilliseconds: 3000), .acquired(acquisition),
                        .holding(acquisition), .done(acquisitions: 3, watchEvents: 4), .failed("session expired")] {
            #expect(WorkerMessage(line: message.line[...]) == message)
        }
        #expect(WorkerMessage(line: "ACQ 1 2") == nil)
        #expect(WorkerMessage(line: "hello") == nil)
    }

    @Test("options: defaults, values, and clear errors")
    func options() throws {
        let defaults = try DemoOptions([])
        #expect(defaults.workers == 8 && defaults.mode == .recipe && !defaults.killHolder && defaults.connect == nil)
        let given = try DemoOptions(["--workers=3", "--mode", "herd", "--kill-holder", "--connect", "h:2181", "--duration", "5"])
        #expect(given.workers == 3 && given.mode == .herd && given.killHolder && given.connect == "h:2181" && given.duration == 5)
        #expect(throws: UsageError.self) { try DemoOptions(["--workers", "1"]) }
        #expect(throws: UsageError.self) { try DemoOptions(["--mode", "fast"]) }
        #expect(throws: UsageError.self) { try DemoOptions(["--bogus"]) }
        #expect(throws: UsageError.self) { try DemoOptions(["--duration"]) }
        #expect(try DemoOptions(["--inspect"]).inspect.map { "\($0.host):\($0.port)" } == "127.0.0.1:8080")
        #expect(try DemoOptions(["--inspect-listen", "127.0.0.1:0"]).inspect.map { "\($0.host):\($0.port)" } == "127.0.0.1:0")
        #expect(try DemoOptions([]).inspect == nil)
        #expect(throws: UsageError.self) { try DemoOptions(["--inspect-listen", "8080"]) }
    }
}
