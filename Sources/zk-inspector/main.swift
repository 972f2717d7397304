import Foundation
import Synchronization
import ToolSupport
import ZooKeeperClient
import ZooKeeperInspector

#if canImport(Glibc)
import Glibc
#endif

// zk-inspector: serves the inspector's page until Ctrl-C; a lost session is replaced by a new one.
func say(_ message: String, to handle: FileHandle = .standardError) {
    handle.write(Data("zk-inspector: \(message)\n".utf8))  // unbuffered: scripts and tests read it live
}

func fail(_ message: String, status: Int32) -> Never {
    say(message)
    exit(status)
}

let options: InspectorOptions
do {
    options = try InspectorOptions(Array(CommandLine.arguments.dropFirst()))
} catch {
    fail("\(error)\n\n\(InspectorOptions.usage)", status: 2)
}
if options.help {
    print(InspectorOptions.usage)
    exit(0)
}
signal(SIGPIPE, SIG_IGN)
let configuration: ZooKeeperConfiguration
do {
    configuration = try ZooKeeperConfiguration(connectionString: options.connect)
} catch {
    fail("\(error)", status: 2)
}

/// What ends one session's inspector: Ctrl-C, or the session's loss.
enum Ending: Sendable { case interrupted, sessionLost }
let (endings, ending) = AsyncStream<Ending>.makeStream()
Interrupts.install(threadName: "zk-inspector-signals", grace: 5, warn: { say($0) }, againMessage: nil, graceMessage: nil) { _ in
    ending.yield(.interrupted)
}
/// One client and one inspector per session, until Ctrl-C.
func serve(_ endings: AsyncStream<Ending>) async -> Never {
    var nextEnding = endings.makeAsyncIterator()
    var first = true
    var port = options.port  // after the first start, the port actually bound (port 0 picks one once)
    while true {
        let client: ZooKeeperClient
        do {
            client = try await ZooKeeperClient.connect(configuration)
        } catch {
            if first { fail("cannot connect to \(options.connect): \(error)", status: 1) }
            say("cannot connect to \(options.connect) (\(error)); trying again in 2 s")
            if Interrupts.requested.load(ordering: .relaxed) { exit(Interrupts.interruptedStatus) }
            try? await Task.sleep(for: .seconds(2))
            continue
        }
        let inspector: ZooKeeperInspector
        do {
            inspector = try await ZooKeeperInspector.start(client: client, configuration: InspectorConfiguration(
                host: options.host, port: port, members: configuration.servers, allowWrites: options.allowWrites))
        } catch {
            await client.close()
            fail("cannot listen on \(options.host):\(port): \(error)", status: 1)
        }
        port = inspector.port
        if first {
            say("\(inspector.url) (\(options.allowWrites ? "writes enabled" : "read-only")) — Ctrl-C stops", to: .standardOutput)
            first = false
        }
        // The session's end (expiry, or closed by the server) makes this inspector useless: start over.
        let watcher = Task {
            for await state in client.connectionStates() {
                if case .lost = state {
                    ending.yield(.sessionLost)
                    return
                }
            }
        }
        let why = await nextEnding.next() ?? .interrupted
        watcher.cancel()
        await inspector.stop()
        await client.close()
        if why == .interrupted { break }
        say("the ZooKeeper session was lost; connecting a new one")
    }
    exit(0)
}

await serve(endings)
