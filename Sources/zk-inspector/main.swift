import Foundation
import ToolSupport
import ZooKeeperClient
import ZooKeeperInspector

#if canImport(Glibc)
import Glibc
#endif

// zk-inspector: serves the inspector's page until Ctrl-C.
func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("zk-inspector: \(message)\n".utf8))
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
let stopped = AsyncStream<Void>.makeStream()
Interrupts.install(threadName: "zk-inspector-signals", grace: 5, warn: { FileHandle.standardError.write(Data("zk-inspector: \($0)\n".utf8)) },
                   againMessage: nil, graceMessage: nil) { _ in stopped.continuation.finish() }
let client: ZooKeeperClient
do {
    client = try await ZooKeeperClient.connect(configuration)
} catch {
    fail("cannot connect to \(options.connect): \(error)", status: 1)
}
let inspector: ZooKeeperInspector
do {
    inspector = try await ZooKeeperInspector.start(client: client, configuration: InspectorConfiguration(
        host: options.host, port: options.port, members: configuration.servers, allowWrites: options.allowWrites))
} catch {
    await client.close()
    fail("cannot listen on \(options.host):\(options.port): \(error)", status: 1)
}
// Unbuffered: whoever started us (a script, a test) reads the URL while we run.
FileHandle.standardOutput.write(Data("zk-inspector: \(inspector.url) (\(options.allowWrites ? "writes enabled" : "read-only")) — Ctrl-C stops\n".utf8))
for await _ in stopped.stream {}
await inspector.stop()
await client.close()
exit(0)
