import ZooKeeperClient
import ZooKeeperProtocol

/// How one command line ended.
public enum CommandOutcome: Sendable, Equatable {
    case ok
    /// An error or usage was printed.
    case failed
    /// Unknown command (zkCli exits 127 for this in non-interactive mode).
    case notFound
    /// `quit`.
    case quit

    /// zkCli's process exit status for a one-shot command.
    public var exitCode: Int32 {
        switch self {
        case .ok, .quit: return 0
        case .failed: return 1
        case .notFound: return 127
        }
    }
}

/// An error that carries zkCli's sentences; thrown by commands, printed by ``Shell/execute(_:)``.
struct CLIError: Error {
    var lines: [String]
    init(_ lines: String...) { self.lines = lines }
    init(lines: [String]) { self.lines = lines }
}

/// Thrown for bad arguments: prints the command's usage line.
struct UsageError: Error {}

/// Thrown when a command needs a live session and there is none: zkCli prints "Not connected" on stdout.
struct NotConnectedError: Error {}

/// The zkCli-compatible shell: holds the connection, history and settings, and runs command lines.
///
/// Lines go out one per call (no newline), so tests can collect them, on zkCli's streams: results on
/// `output` (stdout), errors, usage and the notices zkCli's commands print on `System.err` (`Created …`,
/// `absolute path is …`) on `errorOutput` (stderr).
public actor Shell {
    let output: @Sendable (String) -> Void
    let errorOutput: @Sendable (String) -> Void
    var client: ZooKeeperClient?
    var connectString: String?
    public internal(set) var history: [Int: String] = [:]
    public internal(set) var commandCount = 0
    var printWatches = PrintWatchesFlag()
    var stateTask: Task<Void, Never>?
    var watchTasks: [Task<Void, Never>] = []
    var persistentWatches: [String: Task<Void, Never>] = [:]
    var oneShotWatches: [String: [Int: OneShotKind]] = [:]
    var nextWatchID = 0
    /// The session timeout to ask for.
    public var sessionTimeout: Duration = .seconds(30)
    /// How long ``connect(to:)`` waits for a first session before giving up.
    public var connectTimeout: Duration = .seconds(15)
    /// `--json` given on the command line: ls/get/stat print JSON.
    public var jsonOutput = false

    /// Both streams to one sink.
    public init(output: @escaping @Sendable (String) -> Void) {
        self.init(output: output, errorOutput: output)
    }

    public init(output: @escaping @Sendable (String) -> Void, errorOutput: @escaping @Sendable (String) -> Void) {
        self.output = output
        self.errorOutput = errorOutput
    }

    /// A line for stdout.
    func print(_ line: String) { output(line) }

    /// A line for stderr.
    func printError(_ line: String) { errorOutput(line) }

    public func setJSONOutput(_ on: Bool) { jsonOutput = on }

    /// The interactive prompt: `[zk: host:port(CONNECTED) N] `.
    public var prompt: String {
        let state = client.map { stateName($0.connectionState) } ?? "CLOSED"
        return "[zk: \(connectString ?? "")(\(state)) \(commandCount)] "
    }

    func stateName(_ state: ConnectionState) -> String {
        switch state {
        case .connecting: return "CONNECTING"
        case .connected, .reconnected: return "CONNECTED"
        case .readOnly: return "CONNECTEDREADONLY"
        case .suspended, .presumedExpired: return "CONNECTING"
        case .lost: return "CLOSED"
        }
    }

    /// Runs one line: records it in history (non-empty lines), dispatches, prints errors zkCli's way.
    @discardableResult
    public func execute(_ line: String) async -> CommandOutcome {
        let words = tokenizeCommandLine(line)
        guard !words.isEmpty else { return .ok }
        history[commandCount] = line
        commandCount += 1
        return await run(words: words, line: line)
    }

    func run(words: [String], line: String) async -> CommandOutcome {
        let name = words[0]
        guard let command = Self.commands[name] else {
            for usageLine in Self.usageText { printError(usageLine) }
            printError("Command not found: Command not found \(name)")
            return .notFound
        }
        let args: ParsedArguments
        do {
            args = try parseOptions(Array(words.dropFirst()), flags: command.flags, valued: command.valued)
        } catch {
            printError(command.usage)
            return .failed
        }
        // zkCli prints a CliException's message on stderr, but "Not connected" (ZooKeeperMain's own) on stdout.
        do {
            if command.needsConnection && !(client?.connectionState.isConnected ?? false) {
                throw NotConnectedError()
            }
            return try await command.run(self, args)
        } catch is NotConnectedError {
            print("Not connected")
        } catch is UsageError {
            printError(command.usage)
        } catch let error as CLIError {
            for line in error.lines { printError(line) }
        } catch let error as ZooKeeperError {
            for line in Self.sentences(for: error) { printError(line) }
        } catch {
            printError("\(error)")
        }
        return .failed
    }

    /// zkCli's `CliWrapperException` sentences for a server error.
    static func sentences(for error: ZooKeeperError) -> [String] {
        let path = error.path ?? "null"
        switch error.code {
        case .noNode: return ["Node does not exist: \(path)"]
        case .nodeExists: return ["Node already exists: \(path)"]
        case .notEmpty: return ["Node not empty: \(path)"]
        case .badVersion: return ["version No is not valid : \(path)"]
        case .noAuth: return ["Insufficient permission : \(path)"]
        case .invalidACL: return ["Acl is not valid : \(path)"]
        case .badArguments: return ["Arguments are not valid : \(path)"]
        case .authFailed: return ["Authentication is not valid : \(path)"]
        case .sessionExpired: return ["Session has expired : \(path)"]
        case .connectionLoss, .clientClosed: return ["Connection lost : \(path)"]
        case .reconfigInProgress: return ["Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"]
        case .newConfigNoQuorum: return ["No quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced"]
        default: return [keeperMessage(error)]
        }
    }

    /// Java's `KeeperException.getMessage()`: `KeeperErrorCode = <name>[ for <path>]`.
    static func keeperMessage(_ error: ZooKeeperError) -> String {
        let names: [ZooKeeperErrorCode: String] = [
            .systemError: "SystemError", .runtimeInconsistency: "RuntimeInconsistency",
            .dataInconsistency: "DataInconsistency", .connectionLoss: "ConnectionLoss",
            .marshallingError: "MarshallingError", .unimplemented: "Unimplemented",
            .operationTimeout: "OperationTimeout", .badArguments: "BadArguments", .apiError: "APIError",
            .noNode: "NoNode", .noAuth: "NoAuth", .badVersion: "BadVersion",
            .noChildrenForEphemerals: "NoChildrenForEphemerals", .nodeExists: "NodeExists",
            .notEmpty: "Directory not empty", .sessionExpired: "Session expired", .invalidACL: "InvalidACL",
            .authFailed: "AuthFailed", .sessionMoved: "Session moved", .notReadOnly: "Not a read-only call",
            .ephemeralOnLocalSession: "Ephemeral node on local session", .noWatcher: "No such watcher",
            .reconfigDisabled: "Reconfig is disabled", .quotaExceeded: "Quota has exceeded",
            .throttledOp: "Op throttled due to high load", .requestTimeout: "Request timeout",
            .unknownSession: "Unknown session",
        ]
        var text = "KeeperErrorCode = \(names[error.code] ?? "\(error.code)")"
        if let path = error.path { text += " for \(path)" }
        return text
    }

    /// Validates a path argument with zkCli's sentences.
    func path(_ text: String, sequential: Bool = false) throws -> ZNodePath {
        if let problem = zkCliPathError(text, sequential: sequential) { throw CLIError(problem) }
        do { return try ZNodePath(text, sequentialPrefix: sequential) } catch { throw CLIError("\(error)") }
    }

    func connected() throws -> ZooKeeperClient {
        guard let client, client.connectionState.isConnected else { throw NotConnectedError() }
        return client
    }

    /// Closes the connection (end of a script or `quit`).
    public func shutdown() async {
        await closeClient(announce: false)
    }
}

/// `printwatches on|off`; shared with watch tasks.
struct PrintWatchesFlag: Sendable {
    var on = true
}

/// One command's table entry.
struct CommandSpec: Sendable {
    var usage: String
    var flags: Set<String> = []
    var valued: Set<String> = []
    var needsConnection = true
    var run: @Sendable (Shell, ParsedArguments) async throws -> CommandOutcome
}

extension Shell {
    /// The usage text zkCli 3.8 prints for `help` and unknown commands.
    static let usageText: [String] = [
        "ZooKeeper -server host:port -client-configuration properties-file cmd args",
        "\taddWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
        "\taddauth scheme auth",
        "\tclose ",
        "\tconfig [-c] [-w] [-s]",
        "\tconnect host:port",
        "\tcreate [-s] [-e] [-c] [-t ttl] path [data] [acl]",
        "\tdelete [-v version] path",
        "\tdeleteall path [-b batch size]",
        "\tdelquota [-n|-b|-N|-B] path",
        "\tget [-s] [-w] path",
        "\tgetAcl [-s] path",
        "\tgetAllChildrenNumber path",
        "\tgetEphemerals path",
        "\thistory ",
        "\tlistquota path",
        "\tls [-s] [-w] [-R] path",
        "\tprintwatches on|off",
        "\tquit ",
        "\treconfig [-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]",
        "\tredo cmdno",
        "\tremovewatches path [-c|-d|-a] [-l]",
        "\tset [-s] [-v version] path data",
        "\tsetAcl [-s] [-v version] [-R] path acl",
        "\tsetquota -n|-b|-N|-B val path",
        "\tstat [-w] path",
        "\tsync path",
        "\tversion ",
        "\twhoami ",
    ]

    /// Commands zk-cli adds (listed by `help` after zkCli's).
    static let extraUsageText: [String] = [
        "\t4lw word",
        "\tls2 path",
        "\trmr path",
        "\ttree [path]",
    ]

    static let commands: [String: CommandSpec] = {
        var table: [String: CommandSpec] = [:]
        for (name, spec) in nodeCommands { table[name] = spec }
        for (name, spec) in aclCommands { table[name] = spec }
        for (name, spec) in quotaCommands { table[name] = spec }
        for (name, spec) in watchCommands { table[name] = spec }
        for (name, spec) in sessionCommands { table[name] = spec }
        return table
    }()
}

extension Shell {
    /// Runs a command given as words (a one-shot command from the process arguments).
    @discardableResult
    public func execute(words: [String]) async -> CommandOutcome {
        guard !words.isEmpty else { return .ok }
        let line = words.map { $0.contains(" ") || $0.isEmpty ? "\"\($0)\"" : $0 }.joined(separator: " ")
        history[commandCount] = line
        commandCount += 1
        return await run(words: words, line: line)
    }

    public func setSessionTimeout(_ timeout: Duration) { sessionTimeout = timeout }

    public func setConnectTimeout(_ timeout: Duration) { connectTimeout = timeout }
}
