import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// The pure parts of a member's read-only mode: when it starts (``ReadOnlyModeGate``), what it answers
/// (``ReadOnlyVerdict``), and the `readonlymode.enabled` key.
struct ReadOnlyModeTests {
    typealias Gate = ReadOnlyModeGate<ContinuousClock.Instant>
    let t0 = ContinuousClock.now

    @Test func graceIsTwoSecondsOrTheTickIfLonger() {
        #expect(Gate(enabled: true, tickTime: .milliseconds(100)).grace == .seconds(2))
        #expect(Gate(enabled: true, tickTime: .seconds(3)).grace == .seconds(3))
    }

    /// The gate's answer at `t0 + offset` (a local first: `#expect` cannot hold a mutating call).
    func starts(_ gate: inout Gate, after offset: Duration) -> Bool {
        gate.shouldStart(at: t0 + offset)
    }

    @Test func startsOnceAfterTheGraceWhileLooking() {
        var gate = Gate(enabled: true, tickTime: .milliseconds(100))
        #expect(gate.deadline == nil)
        gate.lookingStarted(at: t0)
        #expect(gate.deadline == t0 + .seconds(2))
        let early = starts(&gate, after: .milliseconds(1999))
        #expect(!early)
        let due = starts(&gate, after: .seconds(2))
        #expect(due)
        let again = starts(&gate, after: .seconds(3))
        #expect(!again, "started once")
        #expect(gate.phase == .serving)
        let stops = gate.lookingEnded()
        #expect(stops, "the election ended: the service stops")
        #expect(gate.phase == .idle)
        let stopsAgain = gate.lookingEnded()
        #expect(!stopsAgain)
    }

    @Test func aQuickElectionNeverStartsIt() {
        var gate = Gate(enabled: true, tickTime: .milliseconds(100))
        gate.lookingStarted(at: t0)
        let early = starts(&gate, after: .milliseconds(500))
        #expect(!early)
        let stops = gate.lookingEnded()
        #expect(!stops, "nothing to stop")
        let inRole = starts(&gate, after: .seconds(5))
        #expect(!inRole, "idle in a role")
        gate.lookingStarted(at: t0 + .seconds(10))
        let fromOld = starts(&gate, after: .seconds(11))
        #expect(!fromOld, "the grace counts from the new election")
        let due = starts(&gate, after: .seconds(12))
        #expect(due)
    }

    @Test func disabledNeverStarts() {
        var gate = Gate(enabled: false, tickTime: .milliseconds(100))
        gate.lookingStarted(at: t0)
        #expect(gate.deadline == nil)
        let late = starts(&gate, after: .seconds(60))
        #expect(!late)
        let stops = gate.lookingEnded()
        #expect(!stops)
    }

    @Test func writesAndSyncAreRefusedReadsServed() {
        let refused: [OpCode] = [.sync, .create, .create2, .createTTL, .createContainer, .delete, .deleteContainer,
                                 .setData, .reconfig, .setACL, .multi, .check]
        for opCode in refused { #expect(ReadOnlyVerdict.of(opCode) == .notReadOnly, "\(opCode)") }
        let served: [OpCode] = [.exists, .getData, .getACL, .getChildren, .getChildren2, .ping, .multiRead, .setWatches,
                                .setWatches2, .addWatch, .removeWatches, .checkWatches, .getEphemerals,
                                .getAllChildrenNumber, .whoAmI]
        for opCode in served { #expect(ReadOnlyVerdict.of(opCode) == .serve, "\(opCode)") }
        #expect(ReadOnlyVerdict.of(.closeSession) == .closeLocally)
    }

    @Test func zooCfgKey() throws {
        #expect(try ZooCfgParser.parse("readonlymode.enabled=true").configuration.readOnlyModeEnabled)
        #expect(try !ZooCfgParser.parse("tickTime=2000").configuration.readOnlyModeEnabled)
        #expect(throws: ZooCfgParser.ParseError.self) { try ZooCfgParser.parse("readonlymode.enabled=maybe") }
        #expect(try ZooCfgParser.parse("localSessionsEnabled=true").configuration.localSessionsEnabled)
        #expect(try !ZooCfgParser.parse("tickTime=2000").configuration.localSessionsEnabled)
    }
}
