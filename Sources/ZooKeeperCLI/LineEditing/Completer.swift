/// One way to finish the word at the cursor.
public struct CompletionCandidate: Sendable, Equatable {
    /// The whole word once completed (`/app/config`).
    public var replacement: String
    /// How it is listed among several (`config`).
    public var display: String
    /// Added after the word when it is the only candidate: a space after a finished word, nothing
    /// after a node whose children are worth another Tab.
    public var suffix: String

    public init(replacement: String, display: String, suffix: String) {
        self.replacement = replacement
        self.display = display
        self.suffix = suffix
    }
}

/// The completions for a line: the word being completed starts at `wordStart` (a character offset).
public struct Completion: Sendable, Equatable {
    public var wordStart: Int
    public var candidates: [CompletionCandidate]

    public init(wordStart: Int, candidates: [CompletionCandidate]) {
        self.wordStart = wordStart
        self.candidates = candidates
    }
}

/// Where completion finds znodes: a node's children, and whether a node has any.
/// Answers nil when it cannot tell (not connected, no such node, too slow).
public protocol ZNodeDirectory: Sendable {
    func children(of path: String) async -> [String]?
    func childCount(of path: String) async -> Int?
}

/// Tab completion for zk-cli: command names as the first word; znode paths after it (children
/// fetched from the server as you type, like zkCli's JLine completer); a few fixed argument words.
public struct Completer: Sendable {
    /// Command names, sorted.
    public let commands: [String]
    /// Argument words for `command`, after a given previous word (nil: any).
    static let argumentWords: [(command: String, after: String?, words: [String])] = [
        ("printwatches", nil, ["on", "off"]),
        ("addWatch", "-m", ["PERSISTENT", "PERSISTENT_RECURSIVE"]),
    ]

    public init(commands: [String]) {
        self.commands = commands.sorted()
    }

    /// The completions for `line` with the cursor at `cursor` (a character offset).
    public func complete(line: String, cursor: Int, directory: some ZNodeDirectory) async -> Completion {
        let before = Array(line.prefix(cursor))
        var wordStart = before.count
        while wordStart > 0, before[wordStart - 1] != " " { wordStart -= 1 }
        let word = String(before[wordStart...])
        let previousWords = String(before[..<wordStart]).split(separator: " ").map(String.init)
        guard let command = previousWords.first else {
            let candidates = commands.filter { $0.hasPrefix(word) }
                .map { CompletionCandidate(replacement: $0, display: $0, suffix: " ") }
            return Completion(wordStart: wordStart, candidates: candidates)
        }
        for entry in Self.argumentWords where entry.command == command {
            if let after = entry.after, previousWords.last != after { continue }
            let candidates = entry.words.filter { $0.hasPrefix(word) }
                .map { CompletionCandidate(replacement: $0, display: $0, suffix: " ") }
            return Completion(wordStart: wordStart, candidates: candidates)
        }
        guard word.isEmpty || word.hasPrefix("/") else { return Completion(wordStart: wordStart, candidates: []) }
        return Completion(wordStart: wordStart, candidates: await pathCandidates(word, directory: directory))
    }

    /// Children of the word's parent that start with its last component.
    func pathCandidates(_ word: String, directory: some ZNodeDirectory) async -> [CompletionCandidate] {
        let path = word.isEmpty ? "/" : word
        let slash = path.lastIndex(of: "/")!
        let parentPrefix = String(path[...slash])  // "/a/" (with its slash)
        let parent = parentPrefix == "/" ? "/" : String(parentPrefix.dropLast())
        let stem = String(path[path.index(after: slash)...])
        guard let children = await directory.children(of: parent) else { return [] }
        let matches = children.filter { $0.hasPrefix(stem) }.sorted()
        guard matches.count == 1 else {
            return matches.map { CompletionCandidate(replacement: parentPrefix + $0, display: $0, suffix: "") }
        }
        let full = parentPrefix + matches[0]
        let count = await directory.childCount(of: full) ?? 0
        if count == 0 { return [CompletionCandidate(replacement: full, display: matches[0], suffix: " ")] }
        // A node with children: the first Tab finishes its name (a valid path to run as is); a Tab
        // on the finished name adds the slash, and the next lists its children.
        let finished = full == path
        return [CompletionCandidate(replacement: finished ? full + "/" : full, display: matches[0], suffix: "")]
    }
}
