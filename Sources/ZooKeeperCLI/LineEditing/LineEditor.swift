import Foundation

/// The interactive line editor's decisions, with no I/O: keys go in; the buffer, cursor, history
/// position and what the terminal must do come out. ``TerminalLineReader`` does the reading and drawing.
///
/// Bindings are Emacs-style as in JLine and readline: Ctrl-A/E (Home/End) start/end of line, Ctrl-B/F
/// (arrows) by character, Alt-B/F (Ctrl-arrows) by word, Ctrl-W word before the cursor, Alt-Backspace
/// word part before the cursor, Alt-D word after, Ctrl-U/K to start/end of line, Ctrl-Y yank what was
/// cut, Ctrl-T transpose, Ctrl-P/N (Up/Down) history, Ctrl-R reverse search, Tab completion, Ctrl-L
/// clear screen, Ctrl-C abandon the line, Ctrl-D end of input on an empty line (else delete).
public struct LineEditor: Sendable {
    /// What the terminal driver must do after a key.
    public enum Action: Sendable, Equatable {
        /// Draw the line again (``display``).
        case redraw
        /// The line is accepted: move below it and run it.
        case submit(String)
        /// Ctrl-D on an empty line: leave the shell.
        case endOfInput
        /// Ctrl-C: the line was abandoned; show `^C`, go to a new line, draw the (empty) line.
        case interrupt
        /// Tab: ask for completions of ``completionRequest`` and pass them to ``applyCompletion(_:)``.
        case complete
        /// Several completions: print them below the line (then ``redraw``).
        case list([String])
        /// Nothing to do for this key here (ring the bell).
        case bell
        /// Ctrl-L: clear the screen, then draw the line at the top.
        case clearScreen
    }

    /// An incremental reverse search in progress (Ctrl-R).
    struct Search: Sendable, Equatable {
        var query: String
        /// The history entry matched, if any.
        var match: Int?
        var failed = false
        /// The line before the search, restored by Ctrl-G / Escape.
        var original: [Character]
        var originalCursor: Int
    }

    public private(set) var buffer: [Character] = []
    public private(set) var cursor = 0
    public var prompt: String
    public private(set) var history: History
    /// Which history entry is shown; `history.entries.count` is the line being typed.
    private var historyIndex: Int
    /// The line being typed, kept while the user browses history.
    private var draft: [Character] = []
    /// What Ctrl-K/U/W/Alt-D last cut, for Ctrl-Y.
    private var cut: [Character] = []
    private var search: Search?
    private var lastQuery = ""

    public init(prompt: String = "", history: History = History()) {
        self.prompt = prompt
        self.history = history
        historyIndex = history.entries.count
    }

    /// The line as text.
    public var line: String { String(buffer) }

    /// Whether a Ctrl-R search is showing.
    public var isSearching: Bool { search != nil }

    /// What the terminal shows: the prompt (or the search prompt), the text, and where the cursor is
    /// (a character offset into `text`).
    public var display: (prompt: String, text: String, cursor: Int) {
        guard let search else { return (prompt, line, cursor) }
        let label = search.failed ? "(failed reverse-i-search)`" : "(reverse-i-search)`"
        let shown = search.match.map { history.entries[$0] } ?? String(buffer)
        var position = shown.count
        if let range = shown.range(of: search.query, options: .backwards), !search.query.isEmpty {
            position = shown.distance(from: shown.startIndex, to: range.lowerBound)
        }
        return (label + search.query + "': ", shown, position)
    }

    /// The text and cursor a completion is asked for.
    public var completionRequest: (line: String, cursor: Int) { (line, cursor) }

    /// Starts a new, empty line with `prompt` (after a submitted or abandoned line).
    public mutating func startLine(prompt: String) {
        self.prompt = prompt
        buffer = []
        cursor = 0
        draft = []
        search = nil
        historyIndex = history.entries.count
    }

    /// Applies one key.
    public mutating func handle(_ key: Key) -> [Action] {
        if search != nil { return handleSearch(key) }
        switch key {
        case .character(let character): insert([character])
        case .enter: return [submit()]
        case .tab: return [.complete]
        case .backspace, .control("h"):
            guard cursor > 0 else { return [.bell] }
            buffer.remove(at: cursor - 1)
            cursor -= 1
        case .delete:
            guard cursor < buffer.count else { return [.bell] }
            buffer.remove(at: cursor)
        case .control("d"):
            if buffer.isEmpty { return [.endOfInput] }
            guard cursor < buffer.count else { return [.bell] }
            buffer.remove(at: cursor)
        case .control("c"):
            startLine(prompt: prompt)
            return [.interrupt]
        case .left, .control("b"):
            guard cursor > 0 else { return [.bell] }
            cursor -= 1
        case .right, .control("f"):
            guard cursor < buffer.count else { return [.bell] }
            cursor += 1
        case .home, .control("a"): cursor = 0
        case .end, .control("e"): cursor = buffer.count
        case .wordLeft, .meta("b"): cursor = wordStart(before: cursor, isWord: Self.isWordCharacter)
        case .wordRight, .meta("f"): cursor = wordEnd(after: cursor, isWord: Self.isWordCharacter)
        case .control("u"): cutRange(0..<cursor)
        case .control("k"): cutRange(cursor..<buffer.count)
        case .control("w"): cutRange(wordStart(before: cursor, isWord: { $0 != " " })..<cursor)
        case .metaBackspace: cutRange(wordStart(before: cursor, isWord: Self.isWordCharacter)..<cursor)
        case .meta("d"): cutRange(cursor..<wordEnd(after: cursor, isWord: Self.isWordCharacter))
        case .control("y"):
            guard !cut.isEmpty else { return [.bell] }
            insert(cut)
        case .control("t"):
            // readline: swap the two characters before the cursor (at the end) or around it.
            guard buffer.count >= 2, cursor > 0 else { return [.bell] }
            let right = min(cursor, buffer.count - 1)
            buffer.swapAt(right - 1, right)
            cursor = right + 1
        case .up, .control("p"):
            guard historyIndex > 0 else { return [.bell] }
            if historyIndex == history.entries.count { draft = buffer }
            historyIndex -= 1
            show(Array(history.entries[historyIndex]))
        case .down, .control("n"):
            guard historyIndex < history.entries.count else { return [.bell] }
            historyIndex += 1
            show(historyIndex == history.entries.count ? draft : Array(history.entries[historyIndex]))
        case .control("r"):
            search = Search(query: "", match: nil, original: buffer, originalCursor: cursor)
        case .control("l"): return [.clearScreen]
        case .escape, .unknown: return []
        default: return [.bell]
        }
        return [.redraw]
    }

    /// Applies the completions found for ``completionRequest``: one is inserted (with its suffix);
    /// several extend the word to their common prefix, or, if that adds nothing, are listed.
    public mutating func applyCompletion(_ completion: Completion) -> [Action] {
        let candidates = completion.candidates
        guard !candidates.isEmpty else { return [.bell] }
        let start = max(0, min(completion.wordStart, cursor))
        let word = buffer[start..<cursor]
        if candidates.count == 1 {
            replace(start..<cursor, with: Array(candidates[0].replacement + candidates[0].suffix))
            return [.redraw]
        }
        let common = Self.commonPrefix(candidates.map { Array($0.replacement) })
        if common.count > word.count, common.starts(with: word) {
            replace(start..<cursor, with: common)
            return [.redraw]
        }
        return [.list(candidates.map(\.display)), .redraw]
    }

    // MARK: - Editing

    private mutating func insert(_ characters: [Character]) {
        buffer.insert(contentsOf: characters, at: cursor)
        cursor += characters.count
    }

    private mutating func replace(_ range: Range<Int>, with characters: [Character]) {
        buffer.replaceSubrange(range, with: characters)
        cursor = range.lowerBound + characters.count
    }

    private mutating func cutRange(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        cut = Array(buffer[range])
        buffer.removeSubrange(range)
        cursor = range.lowerBound
    }

    private mutating func show(_ characters: [Character]) {
        buffer = characters
        cursor = characters.count
    }

    private mutating func submit() -> Action {
        let text = line
        history.add(text)
        startLine(prompt: prompt)
        return .submit(text)
    }

    static func isWordCharacter(_ character: Character) -> Bool { character.isLetter || character.isNumber }

    /// Skips non-word characters backwards, then word characters.
    private func wordStart(before position: Int, isWord: (Character) -> Bool) -> Int {
        var index = position
        while index > 0, !isWord(buffer[index - 1]) { index -= 1 }
        while index > 0, isWord(buffer[index - 1]) { index -= 1 }
        return index
    }

    /// Skips non-word characters forwards, then word characters.
    private func wordEnd(after position: Int, isWord: (Character) -> Bool) -> Int {
        var index = position
        while index < buffer.count, !isWord(buffer[index]) { index += 1 }
        while index < buffer.count, isWord(buffer[index]) { index += 1 }
        return index
    }

    static func commonPrefix(_ words: [[Character]]) -> [Character] {
        guard var prefix = words.first else { return [] }
        for word in words.dropFirst() {
            let length = zip(prefix, word).prefix { $0 == $1 }.count
            prefix.removeLast(prefix.count - length)
        }
        return prefix
    }

    // MARK: - Reverse search

    private mutating func handleSearch(_ key: Key) -> [Action] {
        guard var search else { return [] }
        switch key {
        case .character(let character):
            search.query.append(character)
            let from = search.match ?? history.entries.count - 1
            find(&search, from: from)
        case .control("r"):
            if search.query.isEmpty { search.query = lastQuery }
            let from = (search.match ?? history.entries.count) - 1
            find(&search, from: from)
        case .backspace, .control("h"):
            guard !search.query.isEmpty else { return [.bell] }
            search.query.removeLast()
            if search.query.isEmpty { search.match = nil; search.failed = false } else {
                find(&search, from: history.entries.count - 1)
            }
        case .control("g"), .escape:
            buffer = search.original
            cursor = search.originalCursor
            self.search = nil
            return [.redraw]
        case .control("c"):
            self.search = nil
            return handle(key)
        default:
            // Any other key accepts the match (readline), then does its usual work.
            accept(search)
            return key == .enter ? [submit()] : handle(key)
        }
        self.search = search
        return search.failed ? [.bell, .redraw] : [.redraw]
    }

    /// The newest entry at or before `from` containing the query; a miss keeps the last match.
    private mutating func find(_ search: inout Search, from: Int) {
        lastQuery = search.query
        guard !search.query.isEmpty else { return }
        var index = min(from, history.entries.count - 1)
        while index >= 0 {
            if history.entries[index].contains(search.query) {
                search.match = index
                search.failed = false
                return
            }
            index -= 1
        }
        search.failed = true
    }

    private mutating func accept(_ search: Search) {
        self.search = nil
        guard let match = search.match else { return }
        let text = history.entries[match]
        buffer = Array(text)
        cursor = buffer.count
        if let range = text.range(of: search.query, options: .backwards) {
            cursor = text.distance(from: text.startIndex, to: range.lowerBound)
        }
        historyIndex = match
    }
}
