import Testing
@testable import ZooKeeperClient
import ZooKeeperTestSupport

typealias Machine = ConnectionStateMachine<ManualInstant>

/// A machine with a session of `timeout` established at t = 0 (connect request sent at t = 0).
private func connectedMachine(timeout: Duration = .seconds(10), margin: Duration? = nil) -> Machine {
    var machine = Machine(margin: margin)
    machine.attemptStarted(now: .at(0), timeout: .seconds(5))
    machine.handshakeSent(now: .at(0))
    machine.sessionEstablished(now: .at(5), timeout: timeout)
    return machine
}

@Suite("Connection state machine (manual clock)")
struct ConnectionStateMachineTests {
    @Test("default margin: a tenth of the timeout, at least 100 ms, at most a third")
    func defaultMargin() {
        #expect(Machine.defaultMargin(for: .seconds(30)) == .seconds(3))
        #expect(Machine.defaultMargin(for: .seconds(1)) == .milliseconds(100))
        #expect(Machine.defaultMargin(for: .milliseconds(240)) == .milliseconds(80))
        var configured = connectedMachine(timeout: .seconds(2), margin: .seconds(5))
        #expect(configured.margin == .seconds(2))  // never beyond the timeout itself
        configured.sessionEnded()
        #expect(configured.margin == nil)
    }

    @Test("presumed expiry is due at proof + timeout − margin; the proof is the connect request's send time")
    func presumedDeadline() {
        var machine = connectedMachine()
        #expect(machine.presumedExpiryDeadline == .at(9_000))
        machine.note(proof: .at(2_000))
        #expect(machine.presumedExpiryDeadline == .at(11_000))
        machine.note(proof: .at(1_000))  // an older proof never moves the deadline back
        #expect(machine.presumedExpiryDeadline == .at(11_000))
    }

    @Test("a silent connection: pings, then the read timeout drops it strictly after 2/3 of the timeout")
    func readTimeoutAndPings() {
        var machine = connectedMachine(timeout: .seconds(9))  // read timeout 6 s, ping every 3 s
        #expect(machine.nextDeadline == .at(5 + 3_000))
        #expect(machine.tick(now: .at(3_004)) == [])
        #expect(machine.tick(now: .at(3_005)) == [.sendPing])
        #expect(machine.tick(now: .at(6_004)) == [])
        #expect(machine.tick(now: .at(6_005)) == [.sendPing])
        #expect(machine.tick(now: .at(6_005)) == [])  // still within the read timeout
        let actions = machine.tick(now: .at(6_006))
        #expect(actions.count == 1)
        guard case .dropConnection = actions.first else { Issue.record("expected a drop, got \(actions)"); return }
        #expect(machine.phase == .disconnected)
    }

    @Test("presumed expiry fires on its own timer while a connect attempt is still waiting (one host, long connect timeout)")
    func presumedDuringConnect() {
        var machine = connectedMachine(timeout: .seconds(3))  // margin 300 ms: presumed at 2.7 s
        machine.received(now: .at(100))
        _ = machine.tick(now: .at(2_101))  // read timeout (2 s after the last bytes)
        machine.connectionEnded()
        machine.attemptStarted(now: .at(2_101), timeout: .seconds(3))  // one host: the whole session timeout
        #expect(machine.nextDeadline == .at(2_700))
        #expect(machine.tick(now: .at(2_699)) == [])
        #expect(machine.tick(now: .at(2_700)) == [.publishPresumedExpired])
        #expect(machine.tick(now: .at(2_800)) == [])  // published once
        #expect(machine.nextDeadline == .at(5_101))  // only the attempt's own deadline is left
        #expect(machine.tick(now: .at(5_101)) == [.abandonAttempt])
    }

    @Test("a reply to a request queued while disconnected proves contact only from the new connection's handshake")
    func proofBoundedByConnection() {
        var machine = connectedMachine()
        _ = machine.tick(now: .at(7_000))
        machine.connectionEnded()
        machine.attemptStarted(now: .at(8_000), timeout: .seconds(5))
        machine.handshakeSent(now: .at(8_500))
        machine.sessionEstablished(now: .at(8_600), timeout: .seconds(10))
        #expect(machine.presumedExpiryDeadline == .at(17_500))
        machine.note(proof: .at(7_500))  // enqueued before the reconnect
        #expect(machine.presumedExpiryDeadline == .at(17_500))
        machine.note(proof: .at(9_000))
        #expect(machine.presumedExpiryDeadline == .at(18_000))
    }

    @Test("connected but without a proof in time (replies far behind requests): drop, then presume expiry")
    func noProofWhileConnected() {
        var machine = connectedMachine(timeout: .seconds(3))
        for millisecond in stride(from: 500, through: 2_600, by: 300) {
            machine.received(now: .at(Int64(millisecond)))  // bytes keep coming (notifications), no proof
            machine.sent(now: .at(Int64(millisecond)))
            #expect(machine.tick(now: .at(Int64(millisecond))) == [])
        }
        let actions = machine.tick(now: .at(2_700))
        #expect(actions.count == 2)
        guard case .dropConnection = actions.first else { Issue.record("expected a drop first, got \(actions)"); return }
        #expect(actions.last == .publishPresumedExpired)
        #expect(machine.phase == .disconnected)
    }

    @Test("a new handshake on the same session re-arms presumed expiry")
    func rearmedAfterReconnect() {
        var machine = connectedMachine(timeout: .seconds(1))  // margin 100 ms
        _ = machine.tick(now: .at(700))
        machine.connectionEnded()
        #expect(machine.tick(now: .at(900)) == [.publishPresumedExpired])
        machine.attemptStarted(now: .at(1_000), timeout: .seconds(1))
        machine.handshakeSent(now: .at(1_000))
        machine.sessionEstablished(now: .at(1_010), timeout: .seconds(1))
        #expect(!machine.presumedExpired)
        #expect(machine.presumedExpiryDeadline == .at(1_900))
    }

    @Test("on a read-only server: probe for a read-write one after 100 ms, then with doubling pauses up to 60 s")
    func readWriteProbes() {
        var machine = Machine()
        machine.attemptStarted(now: .at(0), timeout: .seconds(5))
        machine.handshakeSent(now: .at(0))
        machine.sessionEstablished(now: .at(0), timeout: .seconds(300), readOnly: true)
        #expect(machine.nextDeadline == .at(100))
        #expect(machine.tick(now: .at(100)) == [.probeForReadWriteServer])
        #expect(machine.nextProbe == nil)  // one probe at a time
        var expected: Int64 = 200
        var now: Int64 = 100
        for _ in 0..<12 {
            now += 5
            machine.received(now: .at(now))
            machine.sent(now: .at(now))
            machine.probeFailed(now: .at(now))
            #expect(machine.nextProbe == .at(now + expected))
            expected = min(expected * 2, 60_000)
        }
        var plain = Machine()
        plain.sessionEstablished(now: .at(0), timeout: .seconds(10))
        #expect(plain.nextProbe == nil)
    }

    @Test("no session yet: nothing but the attempt's deadline is timed")
    func nothingBeforeTheFirstSession() {
        var machine = Machine()
        #expect(machine.nextDeadline == nil)
        machine.attemptStarted(now: .at(0), timeout: .seconds(2))
        #expect(machine.nextDeadline == .at(2_000))
        #expect(machine.tick(now: .at(1_000)) == [])
        #expect(machine.tick(now: .at(2_000)) == [.abandonAttempt])
    }
}
