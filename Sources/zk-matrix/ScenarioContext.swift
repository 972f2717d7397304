import Foundation
import Synchronization
import ZooKeeperClient
import ZooKeeperTestSupport

/// What a suite gets: clients for the target, a namespace of its own, and the fault to inject once.
final class ScenarioContext: Sendable {
    let target: any MatrixTarget
    let fault: Fault
    let root: ZNodePath
    let sessionTimeout: Duration
    /// Per-client proxies, only under ``Fault/partition`` (nil otherwise: clients connect directly).
    let network: PartitionNetwork?
    private let state = Mutex<(clients: [ZooKeeperClient], victim: ZooKeeperClient?, victimSession: Int64?, notes: [String])>(([], nil, nil, []))
    /// What the suite last reported doing: shown when the scenario exceeds its timeout.
    private let lastProgress = Mutex<String?>(nil)
    /// The clients' and recipes' log lines (debug and up), the latest ``clientLogLimit``: written out when
    /// the scenario fails, so a failure can be followed on the client side too.
    private let clientLog = Mutex<(lines: [String], dropped: Int)>(([], 0))
    private static let clientLogLimit = 4000

    init(target: any MatrixTarget, fault: Fault, suite: Suite, sessionTimeout: Duration) throws {
        self.target = target
        self.fault = fault
        self.sessionTimeout = sessionTimeout
        network = fault == .partition ? PartitionNetwork(sessionTimeout: sessionTimeout) : nil
        root = try ZNodePath("/shepherd-matrix/\(suite.rawValue)-\(fault.rawValue)-\(UInt32.random(in: 0 ... .max))")
    }

    /// A new connected client (closed by ``finish()``).
    /// Under ``Fault/partition`` it connects through proxies of its own, so that it alone can be cut off.
    func client() async throws -> ZooKeeperClient {
        let proxies = try network?.makeProxies(for: target.connectString)
        do {
            var configuration = try ZooKeeperConfiguration(connectionString: proxies?.connectString ?? target.connectString)
            configuration.sessionTimeout = sessionTimeout
            let index = state.withLock { $0.clients.count }
            configuration.logHandler = ZooKeeperLogHandler { [weak self] level, message in
                self?.record("client \(index) \(level): \(message)")
            }
            configuration.initialConnectionTimeout = .seconds(20)
            let client = try await ZooKeeperClient.connect(configuration)
            if let proxies { network?.register(client, proxies) }
            state.withLock { $0.clients.append(client) }
            return client
        } catch {
            proxies?.stop()
            throw error
        }
    }

    /// Creates the scenario's root (and `/shepherd-matrix`).
    func prepare() async throws {
        let setup = try await client()
        for path in ["/shepherd-matrix", root.string] {
            do { try await setup.create(try ZNodePath(path)) } catch let error as ZooKeeperError where error.code == .nodeExists {}
        }
    }

    /// Injects the scenario's fault at `victim` (once).
    func injectFault(victim: ZooKeeperClient) async throws {
        state.withLock { $0.victim = victim; $0.victimSession = victim.session?.id }
        if let network {
            try network.partition(victim)  // the scenario's own network, not the target's processes
        } else {
            try await target.inject(fault, victim: victim)
        }
    }

    private func record(_ line: String) {
        let stamped = "\(Outcome.seconds(.now - logStart)) \(line)"
        clientLog.withLock { log in
            log.lines.append(stamped)
            if log.lines.count > Self.clientLogLimit {
                log.lines.removeFirst(log.lines.count - Self.clientLogLimit)
                log.dropped += 1
            }
        }
    }

    /// Writes the clients' log lines to `path`; returns whether it did.
    func writeClientLog(to path: String) -> Bool {
        let (lines, dropped) = clientLog.withLock { ($0.lines, $0.dropped) }
        let clients = state.withLock { $0.clients }.enumerated().map { index, client in
            "client \(index): session 0x\(String(UInt64(bitPattern: client.session?.id ?? 0), radix: 16)) \(client.connectionState)"
        }
        let head = dropped > 0 ? ["(earlier lines dropped)"] : []
        let text = (clients + head + lines).joined(separator: "\n") + "\n"
        return FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    func note(_ text: String) { state.withLock { $0.notes.append(text) } }
    var notes: [String] { state.withLock { $0.notes } }
    /// Records where the scenario is (overwrites the previous report), for a timeout's diagnosis.
    func progress(_ text: String) { lastProgress.withLock { $0 = text } }
    var progressReport: String? { lastProgress.withLock { $0 } }

    /// The victim's session when the fault was injected.
    var victimSession: Int64? { state.withLock { $0.victimSession } }

    /// Checks the fault took effect as intended. Session expiry and partition (cut off for longer than the
    /// session timeout): once healed, the victim's session must be reported expired. Client-server-killed:
    /// the victim's session must survive (same id, connected again).
    func verifyFault() async throws {
        guard fault == .clientServerKilled || fault == .sessionExpired || fault == .partition else { return }
        let (victim, before) = state.withLock { ($0.victim, $0.victimSession) }
        guard let victim, let before else { throw MatrixError("fault was never injected") }
        await network?.waitUntilHealed()
        let deadline = ContinuousClock.now + sessionTimeout * 3
        if fault == .sessionExpired || fault == .partition {
            while victim.connectionState != .lost(.sessionExpired) {
                guard ContinuousClock.now < deadline else { throw MatrixError("victim's session not expired: \(victim.connectionState)") }
                try await Task.sleep(for: .milliseconds(50))
            }
            return
        }
        while !victim.connectionState.isConnected {
            if case .lost(let reason) = victim.connectionState { throw MatrixError("victim session lost: \(reason)") }
            guard ContinuousClock.now < deadline else { throw MatrixError("victim not reconnected: \(victim.connectionState)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard victim.session?.id == before else { throw MatrixError("victim's session changed (was not kept)") }
    }

    /// What a timed-out scenario leaves behind, for its failure message: the scenario's nodes (with their
    /// owners and creation zxids) as a fresh client sees them, and each client's session and state. A node
    /// owned by a live session that no worker holds is the "ghost" that blocks a lock forever.
    func diagnosis() async -> String {
        let clients = state.withLock { $0.clients }
        let sessions = clients.map { client in
            "0x" + String(UInt64(bitPattern: client.session?.id ?? 0), radix: 16) + " \(client.connectionState)"
        }
        var lines = ["clients: " + sessions.joined(separator: ", ")]
        do {
            var configuration = try ZooKeeperConfiguration(connectionString: target.connectString)
            configuration.initialConnectionTimeout = .seconds(5)
            let observer = try await ZooKeeperClient.connect(configuration)
            defer { Task { await observer.close() } }
            _ = try await observer.sync(root)
            var pending: [ZNodePath] = [root]
            while let path = pending.popLast(), lines.count < 60 {
                for child in try await observer.getChildren(path).sorted() {
                    let childPath = try path.appending(child)
                    guard let stat = try await observer.exists(childPath) else { continue }
                    let owner = stat.ephemeralOwner == 0 ? "" : " owner 0x" + String(UInt64(bitPattern: stat.ephemeralOwner), radix: 16)
                    lines.append(childPath.string.dropFirst(root.string.count) + owner + " czxid 0x" + String(stat.czxid, radix: 16))
                    pending.append(childPath)
                }
            }
        } catch {
            lines.append("tree not readable: \(error)")
        }
        // Each server's connections (a request stuck there shows as queued) and watches by session.
        for server in (try? ZooKeeperConfiguration(connectionString: target.connectString).servers) ?? [] {
            for word in ["cons", "wchc"] {
                let answer = (try? sendFourLetterWord(word, host: server.host, port: server.port, timeout: .seconds(2))) ?? "no answer"
                let compact = answer.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " | ")
                lines.append("\(server.host):\(server.port) \(word): \(compact)")
            }
        }
        return lines.joined(separator: "; ")
    }

    func finish() async {
        let clients = state.withLock { state in defer { state.clients = [] }; return state.clients }
        for client in clients { await client.close() }
        network?.shutdown()
    }
}

/// A worker's client that is replaced when its session ends (expiry), so workers carry on.
final class ClientSlot: Sendable {
    private let context: ScenarioContext
    private let current: Mutex<ZooKeeperClient>

    init(_ context: ScenarioContext) async throws {
        self.context = context
        current = Mutex(try await context.client())
    }

    var client: ZooKeeperClient { current.withLock { $0 } }

    /// After an error: a new client if the session is over, else a short pause.
    func recover(after error: any Error) async throws {
        try Task.checkCancellation()
        let old = client
        if case .lost = old.connectionState {
            let fresh = try await context.client()
            current.withLock { $0 = fresh }
        } else if let error = error as? ZooKeeperError, error.isSessionTerminal {
            let fresh = try await context.client()
            current.withLock { $0 = fresh }
        } else {
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

extension ConnectionState {
    /// Whether the session is over for good.
    var isLost: Bool { if case .lost = self { true } else { false } }
}

/// Waits until `condition` holds, or throws after `timeout`.
func waitFor(_ what: String, timeout: Duration, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw MatrixError("timed out after \(timeout): \(what)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// A value shared between a scenario's tasks.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}
