import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

@Suite(
    "Curator interop: our LeaderSelector and Curator's LeaderSelector / InterProcessMutex share one election",
    .timeLimit(.minutes(2)),
    .enabled(if: CuratorToolchain.available,
             "needs java, javac and Curator 5.4 jars in /usr/share/java (apt-get install default-jdk-headless libcurator-recipes-java libslf4j-java): missing \(CuratorToolchain.missing)")
)
struct CuratorLeaderSelectorInteropTests {
    // The Java side runs Curator's own LeaderSelector (autoRequeue, a term per increment), and — since a
    // Curator LeaderSelector *is* an InterProcessMutex on the path plus the id as node data — a plain
    // InterProcessMutex contender too.
    @Test("a Curator process and 3 Swift selectors (autoRequeue) increment one counter in their terms: no lost update",
          arguments: ["selector", "mutex"])
    func sharedCounter(javaMode: String) async throws {
        let classes = try await CuratorToolchain.compile()
        defer { try? FileManager.default.removeItem(at: classes) }
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/interop-leader/election"
                let counterPath: ZNodePath = "/interop-leader/counter"
                let counter = TextCounter(path: counterPath)
                try await clients[0].create("/interop-leader")
                try await clients[0].create(counterPath, data: Array("0".utf8))
                let javaIterations = 15
                let javaDone = Box(false)
                let swiftTerms = Box(0)
                let failures = Box<[String]>([])
                let mixed = Box(false)
                let inBody = Box(0), stopping = Box(false)

                let java = Task {
                    defer { javaDone.update { $0 = true } }
                    return try await CuratorToolchain.contend(
                        classes: classes, connect: server.connectString, lockPath: path,
                        counterPath: counterPath, iterations: javaIterations, mode: javaMode)
                }
                let selectors = clients.enumerated().map { LeaderSelector(client: $1, path: path, id: "swift-\($0)") }
                for (index, selector) in selectors.enumerated() {
                    let client = clients[index]
                    try await selector.start(autoRequeue: true) { _ in
                        // Counted before the flag is read, so once stopping is set and inBody is 0 no term
                        // touches the counter any more (close then cancels nothing half-done).
                        inBody.update { $0 += 1 }
                        defer { inBody.update { $0 -= 1 } }
                        if stopping.get { return }
                        do {
                            let children = try await client.getChildren(path)
                            if children.count > clients.count { mixed.update { $0 = true } }
                            try await counter.increment(client)
                            swiftTerms.update { $0 += 1 }
                        } catch {
                            failures.update { $0.append("\(error)") }
                            throw error
                        }
                    }
                }
                try await eventually(within: .seconds(90)) { javaDone.get && swiftTerms.get >= 10 }
                stopping.update { $0 = true }
                try await eventually(within: .seconds(10)) { inBody.get == 0 }
                for selector in selectors { await selector.close() }
                let (status, output) = try await java.value
                #expect(status == 0, "the Curator contender failed: \(output)")
                #expect(output.split(separator: "\n").contains("done \(javaIterations)"), "\(output)")
                #expect(failures.get.isEmpty, "\(failures.get)")
                _ = try await clients[0].sync(counter.path)  // maybe another member: read the Java process's last increments
                let final = try await counter.read(clients[0])
                #expect(final == javaIterations + swiftTerms.get,
                        "every read-modify-write ran while leading (Java \(javaIterations), Swift \(swiftTerms.get))")
                #expect(mixed.get, "the Java and Swift participants were queued together")
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }
}
