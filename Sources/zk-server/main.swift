import Foundation
import ZooKeeperServer

// zk-server: a ZooKeeper-compatible server. `zk-server <zoo.cfg>` runs it (standalone, or a member of the
// ensemble the file's server.N lines describe, with this member's id in dataDir/myid); SIGTERM / SIGINT
// stop it cleanly. `zk-server --status <zoo.cfg>` asks the running server, like `zkServer.sh status`.

func fail(_ message: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("zk-server: \(message)\n".utf8))
    exit(status)
}

let usage = "usage: zk-server <zoo.cfg>            run (keys as Apache ZooKeeper's: tickTime, dataDir, clientPort, server.N, …)\n       zk-server --status <zoo.cfg>   print the running server's mode (standalone, leader, follower)"
var arguments = Array(CommandLine.arguments.dropFirst())
let statusOnly = arguments.first == "--status"
if statusOnly { arguments.removeFirst() }
guard arguments.count == 1, !arguments[0].hasPrefix("-") else { fail(usage) }
let text: String
do { text = try String(contentsOfFile: arguments[0], encoding: .utf8) } catch {
    fail("cannot read \(arguments[0]): \(error.localizedDescription)")
}
let parsed: ZooCfgParser.Result
do { parsed = try ZooCfgParser.parse(text) } catch { fail("\(error)") }
guard parsed.configuration.dataDirectory != nil else { fail("zoo.cfg must set dataDir") }

if statusOnly {
    do {
        let status = try ServerStatus.query(parsed.configuration)
        print("Client port found: \(status.port). Client address: \(status.host).")
        print("Mode: \(status.mode)")
        exit(0)
    } catch {
        fail("\(error)", status: 1)
    }
}

let mode = parsed.isEnsemble ? "ensemble member" : "standalone server"
for key in parsed.ignoredKeys { FileHandle.standardError.write(Data("zk-server: ignoring \(key) (\(mode))\n".utf8)) }

let log = ServerLog { level, message in
    // Milliseconds: an election or a failover is a few hundred of them.
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    let stamp = formatter.string(from: Date())
    FileHandle.standardError.write(Data("\(stamp) [\(level)] \(message)\n".utf8))
}
let server = ZooKeeperServer(configuration: parsed.configuration, log: log)

let serving = Task {
    do { try await server.run() } catch { fail("\(error)", status: 1) }
}
signal(SIGTERM, SIG_IGN)
signal(SIGINT, SIG_IGN)
let signals = [SIGTERM, SIGINT].map { number in
    let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
    source.setEventHandler { serving.cancel() }
    source.resume()
    return source
}
await serving.value
withExtendedLifetime(signals) {}
exit(0)
