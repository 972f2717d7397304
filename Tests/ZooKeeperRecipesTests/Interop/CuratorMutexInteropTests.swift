import Foundation
import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// The counter node interop tests increment with an unguarded read-modify-write (decimal text, as the
/// Java contender writes it): a final value equal to the number of increments proves every one ran
/// while its process alone held the lock or leadership.
struct TextCounter: Sendable {
    let path: ZNodePath

    func read(_ client: ZooKeeperClient) async throws -> Int {
        let text = String(decoding: try await client.getData(path).data, as: UTF8.self)
        return try #require(Int(text), "counter \(path) holds \"\(text)\"")
    }

    /// Read, a yield and a round trip (widening the window a second holder would fall into), write + 1.
    func increment(_ client: ZooKeeperClient) async throws {
        let value = try await read(client)
        await Task.yield()
        _ = try await client.exists("/")
        _ = try await client.setData(path, data: Array(String(value + 1).utf8))
    }
}

/// Java, javac and Curator 5.4's jars (Debian's `libcurator-recipes-java`), if installed.
enum CuratorToolchain {
    static let jarDirectory = "/usr/share/java"
    static let jars = ["curator-framework", "curator-client", "curator-recipes", "zookeeper", "zookeeper-jute",
                       "slf4j-api", "slf4j-nop", "guava"]

    static func executable(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var classPath: String { jars.map { "\(jarDirectory)/\($0).jar" }.joined(separator: ":") }

    static var missing: [String] {
        var missing = ["java", "javac"].filter { executable($0) == nil }
        missing += jars.map { "\(jarDirectory)/\($0).jar" }.filter { !FileManager.default.fileExists(atPath: $0) }
        return missing
    }

    static var available: Bool { missing.isEmpty }

    static var source: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("CuratorMutexContender.java")
    }

    /// Compiles the contender into a fresh temporary directory; returns that directory.
    static func compile() async throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("curator-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let result = try await run(executable("javac")!, ["-d", directory.path, "-cp", classPath, source.path],
                                   within: .seconds(60))
        guard result.status == 0 else {
            throw InteropError(message: "javac failed (\(result.status)): \(result.output)")
        }
        return directory
    }

    /// Runs the compiled contender (mode `mutex`, `write` or `read`) to completion.
    static func contend(
        classes: URL, connect: String, lockPath: ZNodePath, counterPath: ZNodePath, iterations: Int, mode: String
    ) async throws -> (status: Int32, output: String) {
        try await run(executable("java")!,
                      ["-cp", classes.path + ":" + classPath, "CuratorMutexContender", connect, lockPath.string,
                       counterPath.string, String(iterations), mode],
                      within: .seconds(90))
    }

    struct InteropError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Runs a process to completion (terminated at `within`), returning its exit status and output.
    static func run(_ executable: String, _ arguments: [String], within: Duration) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { ended in
            exited.continuation.yield(ended.terminationStatus)
            exited.continuation.finish()
        }
        // Drain the pipe while it runs so a chatty process cannot block on a full pipe.
        let output = Mutex(Data())
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            output.withLock { $0.append(chunk) }
        }
        try process.run()
        let pid = process.processIdentifier
        let status: Int32
        do {
            status = try await withTimeout(within) {
                for await status in exited.stream { return status }
                return -1
            }
        } catch {
            kill(pid, SIGKILL)  // our own child, by its id
            throw error
        }
        pipe.fileHandleForReading.readabilityHandler = nil
        let rest = pipe.fileHandleForReading.readDataToEndOfFile()
        let text = output.withLock { String(decoding: $0 + rest, as: UTF8.self) }
        return (status, text)
    }
}

@Suite(
    "Curator interop: our locks and Curator's exclude each other on one path",
    .timeLimit(.minutes(2)),
    .enabled(if: CuratorToolchain.available,
             "needs java, javac and Curator 5.4 jars in /usr/share/java (apt-get install default-jdk-headless libcurator-recipes-java libslf4j-java): missing \(CuratorToolchain.missing)")
)
struct CuratorMutexInteropTests {
    @Test("a Curator process and 3 Swift sessions increment one counter under the lock: no lost update")
    func sharedCounter() async throws {
        let classes = try await CuratorToolchain.compile()
        defer { try? FileManager.default.removeItem(at: classes) }
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let lockPath: ZNodePath = "/interop/lock"
                let counterPath: ZNodePath = "/interop/counter"
                let counter = TextCounter(path: counterPath)
                try await clients[0].create("/interop")
                try await clients[0].create(counterPath, data: Array("0".utf8))
                let javaIterations = 15
                let javaDone = Box(false)
                let swiftAcquisitions = Box(0)
                let sawCuratorContender = Box(false)

                let java = Task {
                    defer { javaDone.update { $0 = true } }
                    return try await CuratorToolchain.contend(
                        classes: classes, connect: server.connectString, lockPath: lockPath,
                        counterPath: counterPath, iterations: javaIterations, mode: "mutex")
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in clients {
                        group.addTask {
                            let mutex = DistributedMutex(client: client, path: lockPath)
                            var done = 0
                            // At least 10 each, and keep contending for as long as the Java process runs.
                            while done < 10 || !javaDone.get {
                                try await mutex.withLock(timeout: .seconds(60)) { _ in
                                    // More contenders than our 3 sessions: the Curator process is queued too.
                                    let children = try await client.getChildren(lockPath)
                                    if children.count > clients.count { sawCuratorContender.update { $0 = true } }
                                    let foreign = children.filter { !($0.hasPrefix("_c_") && $0.count == 55 && $0.dropFirst(40).hasPrefix("lock-")) }
                                    #expect(foreign.isEmpty, "every contender uses Curator's layout: \(foreign)")
                                    try await counter.increment(client)
                                }
                                done += 1
                                swiftAcquisitions.update { $0 += 1 }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let (status, output) = try await java.value
                #expect(status == 0, "the Curator contender failed: \(output)")
                let lines = output.split(separator: "\n")
                #expect(lines.filter { $0.hasPrefix("enter ") }.count == javaIterations, "\(output)")
                #expect(lines.contains("done \(javaIterations)"))
                _ = try await clients[0].sync(counter.path)  // maybe another member: read the Java process's last increments
                let final = try await counter.read(clients[0])
                #expect(final == javaIterations + swiftAcquisitions.get,
                        "every read-modify-write ran under the lock (Java \(javaIterations), Swift \(swiftAcquisitions.get))")
                #expect(sawCuratorContender.get, "the Java and Swift contenders were queued on the lock together")
                #expect(try await leftovers(clients[0], lockPath).isEmpty)
            }
        }
    }

    @Test("read/write lock: Curator reader and writer processes and Swift readers and writers on one path")
    func readWriteLock() async throws {
        let classes = try await CuratorToolchain.compile()
        defer { try? FileManager.default.removeItem(at: classes) }
        try await withRecipeServer { server in
            try await withClients(4, on: server) { clients in
                let lockPath: ZNodePath = "/interop-rw/lock"
                let counterPath: ZNodePath = "/interop-rw/counter"
                let counter = TextCounter(path: counterPath)
                try await clients[0].create("/interop-rw")
                try await clients[0].create(counterPath, data: Array("0".utf8))
                let javaIterations = 10
                let javaRunning = Box(2)
                let swiftWrites = Box(0), swiftReads = Box(0), tornReads = Box(0), mixedQueues = Box(false)
                let javas = ["write", "read"].map { mode in
                    Task {
                        defer { javaRunning.update { $0 -= 1 } }
                        return try await CuratorToolchain.contend(
                            classes: classes, connect: server.connectString, lockPath: lockPath,
                            counterPath: counterPath, iterations: javaIterations, mode: mode)
                    }
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (index, client) in clients.enumerated() {
                        group.addTask {
                            let lock = DistributedReadWriteLock(client: client, path: lockPath)
                            var done = 0
                            while done < 5 || javaRunning.get > 0 {
                                if index % 2 == 0 {
                                    try await lock.writeLock.withLock(timeout: .seconds(60)) { _ in
                                        try await counter.increment(client)
                                    }
                                    swiftWrites.update { $0 += 1 }
                                } else {
                                    try await lock.readLock.withLock(timeout: .seconds(60)) { _ in
                                        let value = try await counter.read(client)
                                        let children = try await client.getChildren(lockPath)
                                        if children.count > clients.count { mixedQueues.update { $0 = true } }
                                        if try await counter.read(client) != value { tornReads.update { $0 += 1 } }
                                    }
                                    swiftReads.update { $0 += 1 }
                                }
                                done += 1
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                for java in javas {
                    let (status, output) = try await java.value
                    #expect(status == 0, "a Curator contender failed (exit 5: a writer got in during its read hold): \(output)")
                }
                #expect(tornReads.get == 0, "no Swift read hold saw a write")
                _ = try await clients[0].sync(counter.path)  // maybe another member: read the Java process's last increments
                let final = try await counter.read(clients[0])
                #expect(final == javaIterations + swiftWrites.get, "no lost update (Java \(javaIterations), Swift \(swiftWrites.get))")
                #expect(mixedQueues.get, "the Java and Swift contenders were queued on the lock together")
                #expect(try await leftovers(clients[0], lockPath).isEmpty)
            }
        }
    }

    @Test("semaphore: Curator InterProcessSemaphoreV2 processes and Swift sessions share 2 leases")
    func semaphore() async throws {
        let classes = try await CuratorToolchain.compile()
        defer { try? FileManager.default.removeItem(at: classes) }
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/interop-sem/semaphore"
                let holdersPath: ZNodePath = "/interop-sem/holders"
                try await clients[0].create("/interop-sem")
                try await clients[0].create(holdersPath)
                let maxLeases = 2, javaIterations = 10
                let javaRunning = Box(2)
                let violations = Box(0), mixedQueues = Box(false)
                let javas = (0..<2).map { _ in
                    Task {
                        defer { javaRunning.update { $0 -= 1 } }
                        return try await CuratorToolchain.contend(
                            classes: classes, connect: server.connectString, lockPath: path,
                            counterPath: holdersPath, iterations: javaIterations, mode: "semaphore:\(maxLeases)")
                    }
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in clients {
                        group.addTask {
                            let semaphore = DistributedSemaphore(client: client, path: path, maxLeases: maxLeases)
                            var done = 0
                            while done < 5 || javaRunning.get > 0 {
                                try await semaphore.withLease(timeout: .seconds(60)) { _ in
                                    let mine = try await client.create(
                                        try holdersPath.appending("s-"), mode: .ephemeralSequential)
                                    let holders = try await client.getChildren(holdersPath)
                                    if holders.count > maxLeases { violations.update { $0 += 1 } }
                                    // A Java holder ("j-") beside us: the two implementations shared the leases.
                                    if holders.contains(where: { $0.hasPrefix("j-") }) { mixedQueues.update { $0 = true } }
                                    try await client.delete(try ZNodePath(mine))
                                }
                                done += 1
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                for java in javas {
                    let (status, output) = try await java.value
                    #expect(status == 0, "a Curator contender failed (exit 6: more than \(maxLeases) holders): \(output)")
                }
                #expect(violations.get == 0, "never more than \(maxLeases) holders seen from Swift")
                #expect(mixedQueues.get, "a Java and a Swift process held leases at the same time")
                let semaphore = DistributedSemaphore(client: clients[0], path: path, maxLeases: maxLeases)
                #expect(try await leftovers(clients[0], semaphore.leasesPath).isEmpty)
            }
        }
    }

    @Test("LeaderLatch: a Curator process and 3 Swift sessions take turns leading one election; no lost update")
    func leaderLatch() async throws {
        let classes = try await CuratorToolchain.compile()
        defer { try? FileManager.default.removeItem(at: classes) }
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/interop-latch/election"
                let counterPath: ZNodePath = "/interop-latch/counter"
                let counter = TextCounter(path: counterPath)
                try await clients[0].create("/interop-latch")
                try await clients[0].create(counterPath, data: Array("0".utf8))
                let javaIterations = 10
                let javaDone = Box(false)
                let swiftTerms = Box(0)
                let mixed = Box(false)
                let java = Task {
                    defer { javaDone.update { $0 = true } }
                    return try await CuratorToolchain.contend(
                        classes: classes, connect: server.connectString, lockPath: path,
                        counterPath: counterPath, iterations: javaIterations, mode: "latch")
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (index, client) in clients.enumerated() {
                        group.addTask {
                            var terms = 0
                            while terms < 5 || !javaDone.get {
                                let latch = LeaderLatch(client: client, path: path, id: "swift-\(index)")
                                try await latch.start()
                                do {
                                    try await latch.waitForLeadership(timeout: .seconds(60))
                                } catch {
                                    await latch.close()
                                    throw CuratorToolchain.InteropError(message: "swift-\(index) never led: \(error)")
                                }
                                let children = try await client.getChildren(path)
                                if children.count > clients.count { mixed.update { $0 = true } }
                                try await counter.increment(client)
                                await latch.close()
                                terms += 1
                                swiftTerms.update { $0 += 1 }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let (status, output) = try await java.value
                #expect(status == 0, "the Curator latch participant failed: \(output)")
                #expect(output.split(separator: "\n").contains("done \(javaIterations)"), "\(output)")
                _ = try await clients[0].sync(counter.path)  // maybe another member: read the Java process's last increments
                let final = try await counter.read(clients[0])
                #expect(final == javaIterations + swiftTerms.get,
                        "every read-modify-write ran while leading (Java \(javaIterations), Swift \(swiftTerms.get))")
                #expect(mixed.get, "Java and Swift participants were in the election together")
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }
}
