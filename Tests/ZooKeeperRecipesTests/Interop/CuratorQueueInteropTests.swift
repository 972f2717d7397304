import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperTestSupport

@Suite(
    "Curator interop: DistributedQueue items framed as Curator's ItemSerializer",
    .timeLimit(.minutes(2)),
    .enabled(if: CuratorToolchain.available, "needs java, javac and Curator 5.4 jars: missing \(CuratorToolchain.missing)")
)
struct CuratorQueueInteropTests {
    static let utf8 = QueueSerializer<String>(encode: { Array($0.utf8) }, decode: { String(decoding: $0, as: UTF8.self) })

    /// Compiles `CuratorQueueClient.java` into a fresh temporary directory.
    static func compile() async throws -> URL {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("CuratorQueueClient.java")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("curator-queue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let result = try await CuratorToolchain.run(
            CuratorToolchain.executable("javac")!, ["-d", directory.path, "-cp", CuratorToolchain.classPath, source.path],
            within: .seconds(60))
        guard result.status == 0 else { throw CuratorToolchain.InteropError(message: "javac failed: \(result.output)") }
        return directory
    }

    static func curator(_ classes: URL, _ connect: String, _ path: ZNodePath, _ mode: String, _ count: Int) async throws -> (status: Int32, output: String) {
        try await CuratorToolchain.run(
            CuratorToolchain.executable("java")!,
            ["-cp", classes.path + ":" + CuratorToolchain.classPath, "CuratorQueueClient", connect, path.string, mode, String(count)],
            within: .seconds(90))
    }

    @Test("Swift puts, a Curator consumer takes them all in order; Curator puts, we take them all in order")
    func bothDirections() async throws {
        let classes = try await Self.compile()
        defer { try? FileManager.default.removeItem(at: classes) }
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let path: ZNodePath = "/queues/interop"
                let queue = DistributedQueue<String>(client: clients[0], path: path, serializer: .curatorFramed(Self.utf8))
                for index in 0..<5 { try await queue.put("swift-\(index)") }
                let consumed = try await Self.curator(classes, server.connectString, path, "consume", 5)
                #expect(consumed.status == 0, "\(consumed.output)")
                let items = consumed.output.split(separator: "\n").filter { $0.hasPrefix("item ") }.map { $0.dropFirst(5) }
                #expect(items == (0..<5).map { "swift-\($0)"[...] }, "\(consumed.output)")
                _ = try await clients[0].sync(path)  // maybe another member: read what the Curator consumer took
                #expect(try await queue.count() == 0)

                let produced = try await Self.curator(classes, server.connectString, path, "produce", 5)
                #expect(produced.status == 0, "\(produced.output)")
                _ = try await clients[0].sync(path)  // maybe another member: read what the Curator producer put
                var taken: [String] = []
                while let item = try await queue.poll() { taken.append(item) }
                #expect(taken == (0..<5).map { "java-\($0)" })
            }
        }
    }

    @Test("unit: the framing is Curator's bytes; bad or multi-item data is a clear error, never a crash")
    func framing() throws {
        let serializer = QueueSerializer<String>.curatorFramed(Self.utf8)
        #expect(try serializer.encode("ab") == [0, 1, 0, 1, 1, 0, 0, 0, 2, 0x61, 0x62, 2])
        #expect(try serializer.decode([0, 1, 0, 1, 1, 0, 0, 0, 0, 2]) == "")
        #expect(throws: QueueFramingError.notCuratorFramed) { try serializer.decode(Array("plain".utf8)) }
        #expect(throws: QueueFramingError.multipleItems(count: 2)) {
            try serializer.decode([0, 1, 0, 1, 1, 0, 0, 0, 1, 0x61, 1, 0, 0, 0, 1, 0x62, 2])
        }
        #expect(throws: QueueFramingError.malformed(offset: 9)) { try serializer.decode([0, 1, 0, 1, 1, 0, 0, 0, 9, 0x61, 2]) }
        #expect(throws: QueueFramingError.self) { try serializer.decode([0, 1, 0, 1, 1, 0, 0, 0, 1, 0x61]) }
        #expect(throws: QueueFramingError.self) { try serializer.decode([0, 1, 0, 1, 7]) }
        for length in 0..<12 {
            _ = try? serializer.decode(Array(try serializer.encode("ab").prefix(length)))  // truncations never trap
        }
    }
}
