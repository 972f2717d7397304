import Foundation
import ZooKeeperServer

// zk-server: a ZooKeeper-compatible server. `zk-server <zoo.cfg>`; SIGTERM / SIGINT stop it cleanly.

func fail(_ message: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("zk-server: \(message)\n".utf8))
    exit(status)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 1, !arguments[0].hasPrefix("-") else {
    fail("usage: zk-server <zoo.cfg>   (keys as Apache ZooKeeper's: tickTime, dataDir, clientPort, …)")
}
let text: String
do { text = try String(contentsOfFile: arguments[0], encoding: .utf8) } catch {
    fail("cannot read \(arguments[0]): \(error.localizedDescription)")
}
let parsed: ZooCfgParser.Result
do { parsed = try ZooCfgParser.parse(text) } catch { fail("\(error)") }
guard parsed.configuration.dataDirectory != nil else { fail("zoo.cfg must set dataDir") }
// Refuse rather than run three unrelated standalone servers from an ensemble's zoo.cfg files.
if parsed.isEnsemble {
    fail("""
        zoo.cfg lists \(parsed.quorum!.votingMembers.count) voting servers (server.N lines): ensemble mode is not served by \
        zk-server yet. Election and replication exist in the library and interoperate with Apache ZooKeeper 3.8 \
        (see README, "Ensembles"); serving clients on members is the next increment. Use one server line, or none, \
        for a standalone server.
        """)
}
for key in parsed.ignoredKeys { FileHandle.standardError.write(Data("zk-server: ignoring \(key) (standalone server)\n".utf8)) }

let log = ServerLog { level, message in
    let stamp = ISO8601DateFormatter().string(from: Date())
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
