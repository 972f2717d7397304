/// The faults a scenario can run under.
enum Fault: String, CaseIterable, Sendable {
    case none
    case leaderKilled = "leader-killed"
    case followerRestarted = "follower-restarted"
    case clientServerKilled = "client-server-killed"
    case sessionExpired = "session-expired"
    /// The victim's connection is silently cut both ways (TCP open, nothing arriving) for 1.5 × the
    /// session timeout, then healed. Clients connect through per-client proxies; no server is touched.
    case partition
    /// The leader is cut off from both other members (silent fault proxies on the links between members;
    /// every member's clients still reach it) until the other two have elected a new leader, then healed:
    /// the recipes' clients on the old leader must move. Ensembles started by the script only.
    case peerPartition = "peer-partition"

    /// What runs without `--faults`: everything but ``peerPartition``, which starts the script's ensembles
    /// with proxied peer links and 400 ms ticks (so the other faults would run under other conditions than
    /// CI has measured them with) and adds about a minute per ensemble target. Ask for it by name.
    static let defaultSet: [Fault] = allCases.filter { $0 != .peerPartition }

    /// Whether the fault acts on the servers (stops or restarts a process, cuts members apart): it then
    /// affects every scenario on the target, so such scenarios run one at a time; the others touch only
    /// their own clients.
    var touchesServers: Bool {
        self == .leaderKilled || self == .followerRestarted || self == .clientServerKilled || self == .peerPartition
    }
}

/// One cell of the table.
enum Outcome: Sendable {
    case pass(Duration)
    case fail(Duration, String)
    case notApplicable

    var cell: String {
        switch self {
        case .pass(let time): "pass \(Self.seconds(time))"
        case .fail(let time, _): "FAIL \(Self.seconds(time))"
        case .notApplicable: "n/a"
        }
    }

    var failed: Bool { if case .fail = self { true } else { false } }

    static func seconds(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return "\(ms / 1000).\(ms % 1000 / 100)s"
    }
}

/// A cell's outcome with what the scenario noted (reported beside the table).
struct Cell: Sendable {
    var outcome: Outcome
    var notes: [String] = []
}
