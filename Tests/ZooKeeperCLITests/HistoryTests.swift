import Foundation
import Testing
import ZooKeeperCLI

@Suite("history: what is kept, and the file")
struct HistoryTests {
    @Test("capped, oldest dropped first; no immediate repeats, empty or space-led lines")
    func rules() {
        var history = History(limit: 3)
        for line in ["a", "a", "", " secret", "b", "c", "d", "d"] { history.add(line) }
        #expect(history.entries == ["b", "c", "d"])
        #expect(History(entries: (1...600).map(String.init)).entries.count == History.defaultLimit)
    }

    @Test("the file is $HOME/.zk-cli_history, saved owner-only and read back; a missing file is an empty history")
    func file() throws {
        let home = NSTemporaryDirectory() + "shepherd-history-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let file = try #require(HistoryFile.standard(environment: ["HOME": home]))
        #expect(file.path == home + "/.zk-cli_history")
        #expect(file.load().entries == [])
        file.save(History(entries: ["ls /", "get /a"]))
        #expect(file.load().entries == ["ls /", "get /a"])
        #expect(try String(contentsOfFile: file.path, encoding: .utf8) == "ls /\nget /a\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(file.load(limit: 1).entries == ["get /a"])
    }
}
