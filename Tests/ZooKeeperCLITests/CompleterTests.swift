import Testing
import ZooKeeperCLI

/// A fixed tree for completion tests: path → children.
struct FakeDirectory: ZNodeDirectory {
    var tree: [String: [String]]
    func children(of path: String) async -> [String]? { tree[path] }
    func childCount(of path: String) async -> Int? { tree[path]?.count }
}

@Suite("completion of commands and znode paths")
struct CompleterTests {
    let completer = Shell.makeCompleter()
    let directory = FakeDirectory(tree: [
        "/": ["app", "apple", "zookeeper"],
        "/app": ["config", "cache"],
        "/app/config": [],
        "/zookeeper": ["config", "quota"],
    ])

    func complete(_ line: String) async -> [String] {
        await completer.complete(line: line, cursor: line.count, directory: directory).candidates
            .map { $0.replacement + $0.suffix }
    }

    @Test("the first word completes to command names")
    func commands() async {
        #expect(await complete("getA") == ["getAcl ", "getAllChildrenNumber "])
        #expect(await complete("dele") == ["delete ", "deleteall "])
        #expect(await complete("quo") == [])
        #expect(Shell.commandNames.contains("ls") && Shell.commandNames.contains("4lw"))
    }

    @Test("paths complete from the children of the typed parent")
    func paths() async {
        #expect(await complete("ls /ap") == ["/app", "/apple"])
        #expect(await complete("ls /app") == ["/app", "/apple"])
        #expect(await complete("get /app/c") == ["/app/cache", "/app/config"])
        #expect(await complete("get /app/co") == ["/app/config "])  // a leaf: finished, a space after
        #expect(await complete("ls /z") == ["/zookeeper"])  // children: no space, another Tab goes on
        #expect(await complete("ls /zookeeper") == ["/zookeeper/"])
        #expect(await complete("ls ") == ["/app", "/apple", "/zookeeper"])
        #expect(await complete("ls /nope/x") == [])
        #expect(await complete("ls -") == [])
        #expect(await complete("ls -s /app/ca") == ["/app/cache "])
    }

    @Test("the word is the one before the cursor, and fixed argument words complete")
    func wordsAndArguments() async {
        let completion = await completer.complete(line: "get /app/co extra", cursor: 11, directory: directory)
        #expect(completion.wordStart == 4)
        #expect(completion.candidates.map(\.replacement) == ["/app/config"])
        #expect(await complete("printwatches o") == ["on ", "off "])
        #expect(await complete("addWatch -m PERSISTENT_") == ["PERSISTENT_RECURSIVE "])
    }
}
