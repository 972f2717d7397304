import ZooKeeperClient
import ZooKeeperPOSIX
import ZooKeeperProtocol
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// connect, close, quit, help, history, redo, version, config, 4lw.

extension Shell {
    /// What `version` reports.
    public static let cliVersion = "ZooKeeper CLI version: 3.8.0-shepherd (zk-cli)"

    static let sessionCommands: [String: CommandSpec] = [
        "connect": CommandSpec(usage: "connect host:port", needsConnection: false) { shell, args in
            guard let target = args.arguments.first else { throw UsageError() }
            do { try await shell.connect(to: target) } catch {
                throw CLIError(await Shell.connectionFailure(target: target, error: error, waited: shell.connectTimeout))
            }
            return .ok
        },
        "close": CommandSpec(usage: "close ", needsConnection: false) { shell, _ in
            await shell.closeClient(announce: true)
            return .ok
        },
        "quit": CommandSpec(usage: "quit ", needsConnection: false) { _, _ in .quit },
        "help": CommandSpec(usage: "help", needsConnection: false) { shell, _ in
            await shell.printHelp()
            return .ok
        },
        "history": CommandSpec(usage: "history ", needsConnection: false) { shell, _ in
            await shell.printHistory()
            return .ok
        },
        "redo": CommandSpec(usage: "redo cmdno", needsConnection: false) { try await $0.redo($1) },
        "version": CommandSpec(usage: "version ", needsConnection: false) { shell, _ in
            await shell.print(Shell.cliVersion)
            return .ok
        },
        "config": CommandSpec(usage: "config [-c] [-w] [-s]", flags: ["c", "w", "s"]) { try await $0.config($1) },
        "4lw": CommandSpec(usage: "4lw word", needsConnection: false) { try await $0.fourLetterWord($1) },
    ]

    /// Connects (closing any current connection first) and prints the SyncConnected event.
    public func connect(to target: String) async throws {
        await closeClient(announce: false)
        var configuration: ZooKeeperConfiguration
        do { configuration = try ZooKeeperConfiguration(connectionString: target) } catch {
            throw CLIError("\(error)")
        }
        configuration.sessionTimeout = sessionTimeout
        configuration.initialConnectionTimeout = connectTimeout
        connectString = target
        let client = try await ZooKeeperClient.connect(configuration)
        self.client = client
        printEvent(state: .syncConnected, type: .none, path: nil)
        let states = client.connectionStates()
        stateTask = Task { [weak self] in
            for await state in states {
                switch state {
                case .connected, .connecting, .presumedExpired: continue
                case .reconnected: await self?.printEvent(state: .syncConnected, type: .none, path: nil)
                case .readOnly: await self?.printEvent(state: .connectedReadOnly, type: .none, path: nil)
                case .suspended: await self?.printEvent(state: .disconnected, type: .none, path: nil)
                case .lost(.sessionExpired): await self?.printEvent(state: .expired, type: .none, path: nil)
                case .lost(.authFailed): await self?.printEvent(state: .authFailed, type: .none, path: nil)
                case .lost: await self?.printEvent(state: .closed, type: .none, path: nil)
                }
            }
        }
    }

    /// One sentence for a failed ``connect(to:)``: which servers, how long we waited, and the last
    /// reason (`Connection refused`), instead of the client's nested error chain.
    public static func connectionFailure(target: String, error: any Error, waited: Duration) -> String {
        guard let error = error as? ZooKeeperError else { return "cannot connect to \(target): \(error)" }
        // The innermost cause: the socket's own words, when there are any.
        var cause: any Error = error
        while let next = (cause as? ZooKeeperError)?.underlying { cause = next }
        let reason = (cause as? ZooKeeperError).map { $0.message ?? "\($0.code)" } ?? "\(cause)"
        guard error.code == .connectionLoss else { return "cannot connect to \(target): \(reason)" }
        let milliseconds = Int(waited / .milliseconds(1))
        let wait = milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
        let detail = cause is ZooKeeperError && reason.hasPrefix("not connected within") ? "" : " (\(reason))"
        return "no ZooKeeper server answered at \(target) within \(wait)\(detail)"
    }

    func closeClient(announce: Bool) async {
        stateTask?.cancel()
        stateTask = nil
        for task in watchTasks { task.cancel() }
        watchTasks = []
        oneShotWatches = [:]
        for task in persistentWatches.values { task.cancel() }
        persistentWatches = [:]
        guard let client else { return }
        self.client = nil
        await client.close()
        if announce { printEvent(state: .closed, type: .none, path: nil) }
    }

    /// zkCli has no `help`: it answers with its usage text, on stderr.
    func printHelp() {
        (Self.usageText + Self.extraUsageText).forEach(printError)
    }

    func printHistory() {
        let last = commandCount - 1
        for index in max(0, last - 10)...last {
            if let line = history[index] { print("\(index) - \(line)") }
        }
    }

    func redo(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        guard let index = Int(text), index >= 0, index < commandCount - 1, let line = history[index] else {
            throw CLIError("Command index out of range")
        }
        history[commandCount - 1] = line
        let words = tokenizeCommandLine(line)
        if words.first == "redo" { throw CLIError("No redoing redos") }
        return await run(words: words, line: line)
    }

    func config(_ args: ParsedArguments) async throws -> CommandOutcome {
        let (data, stat) = try await connected().getConfig()
        let text = String(decoding: data, as: UTF8.self)
        if args.has("c") {
            // ConfigUtils.getClientConfigStr: "version connect-string".
            var version = ""
            var servers: [String] = []
            for line in text.split(separator: "\n") {
                if line.hasPrefix("version=") { version = String(line.dropFirst(8)) }
                else if line.hasPrefix("server."), let semicolon = line.lastIndex(of: ";") {
                    servers.append(String(line[line.index(after: semicolon)...]))
                }
            }
            print("\(version) \(servers.joined(separator: ","))")
        } else {
            print(text)
        }
        if args.has("s") { StatPrinter.lines(stat).forEach(print) }
        return .ok
    }

    /// `4lw word`: sends a four-letter word to the server this session is connected to.
    func fourLetterWord(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let word = args.arguments.first, word.utf8.count == 4 else { throw UsageError() }
        guard let server = client?.currentServer ?? (try? ZooKeeperConfiguration(connectionString: connectString ?? ""))?.servers.first
        else { throw NotConnectedError() }
        let reply: String
        do {
            reply = try FourLetterWord.ask(word, host: server.host, port: server.port, timeout: .seconds(10))
        } catch .resolutionFailed {
            throw CLIError("Unable to resolve address: \(server.host):\(server.port)")
        } catch {
            throw CLIError("Unable to connect to \(server.host):\(server.port): \(error)")
        }
        for line in reply.split(separator: "\n", omittingEmptySubsequences: false).dropLast(reply.hasSuffix("\n") ? 1 : 0) {
            print(String(line))
        }
        return .ok
    }
}
