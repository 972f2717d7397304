import ZooKeeperClient
import ZooKeeperTestSupport

/// Makes one server's answers comparable with another's: zxids become first-seen ordinals,
/// times become "set", session ids become the ordinal of the session in the run.
struct DiffNormaliser: Sendable {
    private var zxids: [Int64: Int] = [:]
    private(set) var sessions: [Int64: Int] = [:]

    mutating func registerSession(_ id: Int64) {
        if sessions[id] == nil { sessions[id] = sessions.count }
    }

    mutating func zxid(_ value: Int64) -> String {
        if value == 0 { return "0" }
        if let known = zxids[value] { return "z\(known)" }
        zxids[value] = zxids.count + 1
        return "z\(zxids.count)"
    }

    func owner(_ value: Int64) -> String {
        if value == 0 { return "0" }
        if let session = sessions[value] { return "session\(session)" }
        return "0x" + String(UInt64(bitPattern: value), radix: 16)
    }

    mutating func stat(_ s: Stat) -> String {
        let czxid = zxid(s.czxid), mzxid = zxid(s.mzxid), pzxid = zxid(s.pzxid)
        func time(_ t: Int64) -> String { t > 0 ? "set" : "\(t)" }
        return "{cz=\(czxid) mz=\(mzxid) pz=\(pzxid) ct=\(time(s.ctime)) mt=\(time(s.mtime)) v=\(s.version) "
            + "cv=\(s.cversion) av=\(s.aversion) owner=\(owner(s.ephemeralOwner)) len=\(s.dataLength) kids=\(s.numChildren)}"
    }
}

/// The answer to one step, normalised, plus what the generator may learn from it.
struct DiffOutcome: Sendable {
    var text: String
    var feedback = DiffFeedback()
    /// The operation failed with this ZooKeeper code (nil: it succeeded or failed otherwise).
    var errorCode: ZooKeeperError.Code?
}

/// One server under test: its sessions (slots), their watches, and the normaliser for its answers.
actor DiffSide {
    let name: String
    private let configuration: ZooKeeperConfiguration
    private var clients: [ZooKeeperClient?]
    private var normaliser = DiffNormaliser()
    /// One-shot watches by label (`w<step>`), in registration order.
    private var oneShots: [(label: String, watch: OneShotWatch)] = []
    /// Persistent watches by label, with the task consuming each.
    private var persistents: [(label: String, log: EventLog, task: Task<Void, Never>)] = []

    init(name: String, configuration: ZooKeeperConfiguration, sessionCount: Int) {
        self.name = name
        self.configuration = configuration
        self.clients = Array(repeating: nil, count: sessionCount)
    }

    func open() async throws {
        for slot in clients.indices { try await reopen(slot) }
    }

    private func reopen(_ slot: Int) async throws {
        var configuration = configuration
        configuration.sessionTimeout = .seconds(20)
        let client = try await ZooKeeperClient.connect(configuration)
        if let id = client.session?.id { normaliser.registerSession(id) }
        clients[slot] = client
    }

    func close() async {
        for task in persistents.map(\.task) { task.cancel() }
        for case let client? in clients { await client.close() }
        clients = clients.map { _ in nil }
    }

    private func client(_ slot: Int) throws -> ZooKeeperClient {
        guard let client = clients[slot] else { throw ZooKeeperError(.clientClosed, message: "slot \(slot) has no session") }
        return client
    }

    /// Makes every other session's pending notifications arrive: a round trip on each connection
    /// (a server sends a notification before any later reply on the same connection).
    func barrier(except slot: Int) async throws {
        for (index, client) in clients.enumerated() where index != slot {
            guard let client else { continue }
            _ = try await client.exists("/")
        }
    }

    /// How many events (and endings) each persistent watch has recorded so far.
    func persistentCounts() -> [Int] {
        persistents.map { $0.log.snapshot.count + ($0.log.ending == nil ? 0 : 1) }
    }

    /// Every watch's state: fired one-shots with their event, persistent watches with their events.
    func watchState() -> [String] {
        var lines: [String] = []
        for (label, watch) in oneShots {
            lines.append("\(label): " + (watch.firedEvent.map(Self.describe) ?? "armed"))
        }
        for (label, log, _) in persistents {
            var line = "\(label): [" + log.snapshot.map(Self.describe).joined(separator: ", ") + "]"
            switch log.ending {
            case nil: break
            case .success: line += " finished"
            case let .failure(error): line += " ended(\((error as? ZooKeeperError)?.code.description ?? "\(error)"))"
            }
            lines.append(line)
        }
        return lines
    }

    private static func describe(_ event: WatchedEvent) -> String { "\(event.type) \(event.path) \(event.state)" }

    /// Runs one step and returns its normalised answer.
    func run(_ op: DiffOp, step: Int) async -> DiffOutcome {
        var feedback = DiffFeedback()
        do {
            let text = try await perform(op, step: step, feedback: &feedback)
            return DiffOutcome(text: "ok " + text, feedback: feedback)
        } catch let error as ZooKeeperError {
            var text = "error \(error.code)"
            if let results = error.operationResults { text += " " + results.map { result(of: $0, feedback: &feedback) }.joined(separator: ", ") }
            return DiffOutcome(text: text, feedback: feedback, errorCode: error.code)
        } catch {
            return DiffOutcome(text: "failure \(error)", feedback: feedback)
        }
    }

    private func note(_ path: String, _ stat: Stat, _ feedback: inout DiffFeedback) -> String {
        feedback.versions[path] = (stat.version, stat.aversion)
        return normaliser.stat(stat)
    }

    private func acl(_ acl: [ACL]) -> String {
        acl.map { "\($0.id.scheme):\($0.id.id)=\($0.perms)" }.joined(separator: ",")
    }

    private func result(of result: OperationResult, feedback: inout DiffFeedback) -> String {
        switch result {
        case let .create(path, _):
            // Not the Stat: Apache 3.8.0 answers a create2 inside multi with a plain CreateResponse
            // (ZOOKEEPER-4026, fixed in 3.8.2, which Shepherd follows). Rendering it would also shift
            // the first-seen zxid numbering of one side only.
            feedback.createdPaths.append(path)
            return "create(\(path))"
        case .delete: return "delete"
        case let .setData(stat): return "setData(\(normaliser.stat(stat)))"
        case .check: return "check"
        case let .error(code): return "error(\(code))"
        }
    }

    private func perform(_ op: DiffOp, step: Int, feedback: inout DiffFeedback) async throws -> String {
        let zk = try client(op.slot)
        func p(_ path: String) -> ZNodePath { ZNodePath(unchecked: path) }
        switch op {
        case let .create(_, path, data, acl, mode, ttl, withStat):
            if withStat {
                let (created, stat) = try await zk.createReturningStat(p(path), data: data, acl: acl.acl, mode: mode, ttl: ttl)
                feedback.createdPaths.append(created)
                return "\(created) \(note(created, stat, &feedback))"
            }
            let created = try await zk.create(p(path), data: data, acl: acl.acl, mode: mode, ttl: ttl)
            feedback.createdPaths.append(created)
            return created
        case let .delete(_, path, version):
            try await zk.delete(p(path), version: version)
            return ""
        case let .setData(_, path, data, version):
            return note(path, try await zk.setData(p(path), data: data, version: version), &feedback)
        case let .exists(_, path, watch):
            if watch {
                let (stat, oneShot) = try await zk.existsWatching(p(path))
                oneShots.append(("w\(step) S\(op.slot) exists \(path)", oneShot))
                return stat.map { note(path, $0, &feedback) } ?? "nil"
            }
            guard let stat = try await zk.exists(p(path)) else { return "nil" }
            return note(path, stat, &feedback)
        case let .getData(_, path, watch):
            if watch {
                let (data, stat, oneShot) = try await zk.getDataWatching(p(path))
                oneShots.append(("w\(step) S\(op.slot) getData \(path)", oneShot))
                return "\(data) \(note(path, stat, &feedback))"
            }
            let (data, stat) = try await zk.getData(p(path))
            return "\(data) \(note(path, stat, &feedback))"
        case let .getChildren(_, path, watch, withStat):
            if watch {
                let (children, stat, oneShot) = try await zk.getChildrenWatching(p(path))
                oneShots.append(("w\(step) S\(op.slot) getChildren \(path)", oneShot))
                return "\(children.sorted()) \(note(path, stat, &feedback))"
            }
            if withStat {
                let (children, stat) = try await zk.getChildrenWithStat(p(path))
                return "\(children.sorted()) \(note(path, stat, &feedback))"
            }
            return "\(try await zk.getChildren(p(path)).sorted())"
        case let .getACL(_, path):
            let (list, stat) = try await zk.getACL(p(path))
            return "\(acl(list)) \(note(path, stat, &feedback))"
        case let .setACL(_, path, acl, version):
            return note(path, try await zk.setACL(p(path), acl: acl.acl, version: version), &feedback)
        case let .sync(_, path):
            return try await zk.sync(p(path))
        case let .check(_, path, version):
            try await zk.check(p(path), version: version)  // a one-op multi: no server answers a lone check
            return ""
        case let .multi(_, ops):
            let results = try await zk.multi(ops)
            return results.map { result(of: $0, feedback: &feedback) }.joined(separator: ", ")
        case let .multiRead(_, ops):
            let results = try await zk.multiRead(ops)
            return zip(ops, results).map { op, result -> String in
                switch result {
                case let .data(data, stat):
                    guard case let .getData(path) = op else { return "data(\(data) \(normaliser.stat(stat)))" }
                    return "data(\(data) \(note(path.string, stat, &feedback)))"
                case let .children(children): return "children(\(children.sorted()))"
                case let .error(code): return "error(\(code))"
                }
            }.joined(separator: ", ")
        case let .getEphemerals(_, prefix):
            return "\(try await zk.getEphemerals(prefix: prefix))"  // Apache's HashSet order
        case let .getAllChildrenNumber(_, path):
            return "\(try await zk.getAllChildrenNumber(p(path)))"
        case let .addWatch(_, path, mode):
            let watch = try await zk.addWatch(p(path), mode: mode)
            let (log, task) = EventLog.collecting(watch)
            persistents.append(("pw\(step) S\(op.slot) \(mode) \(path)", log, task))
            return ""
        case let .removeWatches(_, path, type):
            try await zk.removeWatches(p(path), type: type)
            return ""
        case let .checkWatches(_, path, type):
            try await zk.checkWatches(p(path), type: type)
            return ""
        case let .addAuth(_, user):
            try await zk.addAuth(scheme: "digest", auth: Array("\(user):pw-\(user)".utf8))
            return ""
        case .whoAmI:
            let infos = try await zk.whoAmI()
            return infos.map { "\($0.authScheme):\($0.user)" }.joined(separator: ",")  // Apache's order
        case .getConfig:
            let (data, stat) = try await zk.getConfig()
            return "\(data) \(normaliser.stat(stat))"
        case let .closeSession(slot):
            await zk.close()
            clients[slot] = nil
            try await reopen(slot)
            return "reopened as session\(normaliser.sessions.count - 1)"
        }
    }
}
