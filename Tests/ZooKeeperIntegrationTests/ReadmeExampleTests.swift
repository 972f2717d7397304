import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

// README-EXAMPLE-BEGIN
func readmeExample(connectString: String) async throws -> String {
    let configuration = try ZooKeeperConfiguration(connectionString: connectString)
    return try await withZooKeeperClient(configuration) { zk in
        try await zk.create("/greeting", data: Array("hello".utf8), mode: .ephemeral)
        let (data, _, watch) = try await zk.getDataWatching("/greeting")
        try await zk.setData("/greeting", data: Array("bye".utf8))
        let event = try await watch.event()  // fires once: NodeDataChanged
        return "\(String(decoding: data, as: UTF8.self)) -> \(event.type) \(event.path)"
    }
}
// README-EXAMPLE-END

@Suite("README", .enabled(if: integrationEnabled, integrationSkipReason), .timeLimit(.minutes(1)))
struct ReadmeExampleTests {
    @Test("the README's client example compiles, runs, and is the one in README.md")
    func example() async throws {
        let server = try await TestServerFixture.shared()
        let chroot = server.uniqueChroot("readme")
        try await ensurePath(chroot, connectString: server.connectString)
        #expect(try await readmeExample(connectString: server.connectString(chroot: chroot))
            == "hello -> NodeDataChanged /greeting")

        let thisFile = try String(contentsOfFile: #filePath, encoding: .utf8)
        let begin = try #require(thisFile.range(of: "// README-EXAMPLE-BEGIN\n"))
        let end = try #require(thisFile.range(of: "// README-EXAMPLE-END"))
        let snippet = String(thisFile[begin.upperBound..<end.lowerBound])
        let readmePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md").path
        let readme = try String(contentsOfFile: readmePath, encoding: .utf8)
        #expect(readme.contains(snippet), "README.md must contain the example exactly as compiled here")
    }
}
