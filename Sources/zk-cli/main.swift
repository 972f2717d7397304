import Foundation
import ZooKeeperCLI
#if canImport(Glibc)
import Glibc
#endif

// zk-cli: a zkCli-compatible ZooKeeper shell.
//   zk-cli [-server host:port[,…][/chroot]] [-timeout ms] [--json] [cmd args…]
// With a command: runs it and exits (0 ok, 1 error, 127 unknown command). Without: reads commands from
// stdin, one per line; exits 1 if any command failed. On a terminal, lines are edited as in zkCli's JLine
// (history in ~/.zk-cli_history, Ctrl-R, Tab completion of commands and znode paths); piped stdin is read
// plainly, as before.

let standardOutput = FileHandle.standardOutput
let standardError = FileHandle.standardError
// A terminal on both ends: lines are edited, and what prints meanwhile (watch events) goes above the line.
let lineTerminal: Terminal? = Terminal.isInteractive(environment: ProcessInfo.processInfo.environment) ? Terminal() : nil
// zkCli's streams: results on stdout; errors, usage and some notices ("Created …") on stderr.
let shell = Shell(
    output: { line in
        if let lineTerminal { lineTerminal.printAbove(line, descriptor: 1) } else { standardOutput.write(Data((line + "\n").utf8)) }
    },
    errorOutput: { line in
        if let lineTerminal { lineTerminal.printAbove(line, descriptor: 2) } else { standardError.write(Data((line + "\n").utf8)) }
    })

var arguments = Array(CommandLine.arguments.dropFirst())
var server = "localhost:2181"
var timeoutMilliseconds = 30000
var json = false
parsing: while let first = arguments.first {
    switch first {
    case "-server" where arguments.count >= 2:
        server = arguments[1]
        arguments.removeFirst(2)
    case "-timeout" where arguments.count >= 2:
        timeoutMilliseconds = Int(arguments[1]) ?? timeoutMilliseconds
        arguments.removeFirst(2)
    case "--json":
        json = true
        arguments.removeFirst()
    case "-h", "--help":
        await shell.execute("help")
        exit(0)
    default:
        break parsing
    }
}

await shell.setJSONOutput(json)
await shell.setSessionTimeout(.milliseconds(timeoutMilliseconds))
// Wait for a first session as long as the session timeout, at most 15 s: then one clear line, not a hang.
let connectWait = min(Duration.milliseconds(timeoutMilliseconds), .seconds(15))
await shell.setConnectTimeout(connectWait)
do {
    try await shell.connect(to: server)
} catch {
    standardError.write(Data("zk-cli: \(Shell.connectionFailure(target: server, error: error, waited: connectWait))\n".utf8))
    exit(1)
}

if !arguments.isEmpty {
    let outcome = await shell.execute(words: arguments)
    await shell.shutdown()
    exit(outcome.exitCode)
}

if let terminal = lineTerminal {
    terminal.restoreOnTerminatingSignals()
    let reader = TerminalLineReader(terminal: terminal, completer: Shell.makeCompleter(), directory: shell,
                                    historyFile: HistoryFile.standard())
    while let line = await reader.readLine(prompt: await shell.prompt) {
        if await shell.execute(line) == .quit { break }
    }
    await shell.shutdown()
    exit(0)
}

let interactive = isatty(0) != 0
var failed = false
while true {
    if interactive {
        standardOutput.write(Data(await shell.prompt.utf8))
    }
    guard let line = readLine() else { break }
    let outcome = await shell.execute(line)
    if outcome == .quit { break }
    if outcome == .failed || outcome == .notFound { failed = true }
}
await shell.shutdown()
exit(failed && !interactive ? 1 : 0)
