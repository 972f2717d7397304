/// The admin server's commands: Apache 3.8's primary names and aliases (`Commands.java`), and whether
/// each needs a serving server (a LOOKING ensemble member answers those with an error, as Apache does).
struct AdminCommand: Sendable {
    /// The primary name first, then the aliases.
    let names: [String]
    let needsServer: Bool

    var primaryName: String { names[0] }

    init(_ names: String..., needsServer: Bool = true) {
        self.names = names
        self.needsServer = needsServer
    }

    static let all: [AdminCommand] = [
        AdminCommand("connection_stat_reset", "crst"),
        AdminCommand("configuration", "conf", "config"),
        AdminCommand("connections", "cons"),
        AdminCommand("hash"),
        AdminCommand("dirs"),
        AdminCommand("dump"),
        AdminCommand("environment", "env", "envi", needsServer: false),
        AdminCommand("get_trace_mask", "gtmk", needsServer: false),
        AdminCommand("initial_configuration", "icfg"),
        AdminCommand("is_read_only", "isro"),
        AdminCommand("last_snapshot", "lsnp"),
        AdminCommand("leader", "lead"),
        AdminCommand("monitor", "mntr", needsServer: false),
        AdminCommand("observer_connection_stat_reset", "orst"),
        AdminCommand("ruok"),
        AdminCommand("set_trace_mask", "stmk", needsServer: false),
        AdminCommand("server_stats", "srvr"),
        AdminCommand("stats", "stat"),
        AdminCommand("stat_reset", "srst"),
        AdminCommand("observers", "obsr"),
        AdminCommand("system_properties", "sysp", needsServer: false),
        AdminCommand("voting_view"),
        AdminCommand("watches", "wchc"),
        AdminCommand("watches_by_path", "wchp"),
        AdminCommand("watch_summary", "wchs"),
        AdminCommand("zabstate", needsServer: false),
    ]

    /// The command answering to `name` (a primary name or an alias).
    static func named(_ name: String) -> AdminCommand? {
        all.first { $0.names.contains(name) }
    }
}
