import Testing
import ZooKeeperCLI

/// Keystrokes through ``KeyDecoder`` into ``LineEditor``; what the line holds after them.
struct EditorHarness {
    var editor: LineEditor
    var decoder = KeyDecoder()
    var actions: [LineEditor.Action] = []

    init(history: [String] = []) {
        editor = LineEditor(prompt: "> ", history: History(entries: history))
    }

    /// Types `bytes` as a terminal sends them; returns the actions of this call.
    @discardableResult
    mutating func type(_ bytes: String) -> [LineEditor.Action] {
        var produced: [LineEditor.Action] = []
        for key in decoder.decode(Array(bytes.utf8)) + (decoder.hasPending ? decoder.flush() : []) {
            produced += editor.handle(key)
        }
        actions += produced
        return produced
    }

    /// The line with `|` at the cursor.
    var state: String {
        var characters = editor.buffer
        characters.insert("|", at: editor.cursor)
        return String(characters)
    }
}

@Suite("line editor: keys in, line and actions out")
struct LineEditorTests {
    @Test("typing, and moving by character, word and line")
    func movement() {
        var h = EditorHarness()
        h.type("get /a/b")
        #expect(h.state == "get /a/b|")
        h.type("\u{1}")  // Ctrl-A
        #expect(h.state == "|get /a/b")
        h.type("\u{5}")  // Ctrl-E
        #expect(h.state == "get /a/b|")
        h.type("\u{1B}[D\u{1B}[D")  // Left Left
        #expect(h.state == "get /a|/b")
        h.type("\u{1B}[C")  // Right
        #expect(h.state == "get /a/|b")
        h.type("\u{2}\u{2}\u{6}")  // Ctrl-B Ctrl-B Ctrl-F
        #expect(h.state == "get /a|/b")
        h.type("\u{1B}b")  // Alt-B: start of the word
        #expect(h.state == "get /|a/b")
        h.type("\u{1B}[1;5D")  // Ctrl-Left
        #expect(h.state == "|get /a/b")
        h.type("\u{1B}f")  // Alt-F
        #expect(h.state == "get| /a/b")
        h.type("\u{1B}[1;5C")  // Ctrl-Right
        #expect(h.state == "get /a|/b")
        h.type("\u{1B}[H")
        #expect(h.state == "|get /a/b")
        h.type("\u{1B}[F")
        #expect(h.state == "get /a/b|")
        h.type("\u{1B}[1~")
        #expect(h.state == "|get /a/b")
        h.type("\u{1B}[4~")
        #expect(h.state == "get /a/b|")
        h.type("\u{1B}OH")
        #expect(h.state == "|get /a/b")
    }

    @Test("at the edges, moves and deletes ring the bell and change nothing")
    func edges() {
        var h = EditorHarness()
        #expect(h.type("\u{7F}") == [.bell])
        #expect(h.type("\u{1B}[D") == [.bell])
        h.type("ab")
        #expect(h.type("\u{1B}[C") == [.bell])
        #expect(h.type("\u{1B}[3~") == [.bell])
        #expect(h.type("\u{4}") == [.bell])  // Ctrl-D at the end of a non-empty line
        #expect(h.state == "ab|")
    }

    @Test("inserting in the middle, Backspace, Delete, Ctrl-D")
    func insertAndDelete() {
        var h = EditorHarness()
        h.type("ls /ab")
        h.type("\u{1B}[D\u{1B}[D")
        h.type("x")
        #expect(h.state == "ls /x|ab")
        h.type("\u{7F}")
        #expect(h.state == "ls /|ab")
        h.type("\u{1B}[3~")
        #expect(h.state == "ls /|b")
        h.type("\u{4}")
        #expect(h.state == "ls /|")
        h.type("\u{8}")  // Ctrl-H is Backspace too
        #expect(h.state == "ls |")
    }

    @Test("Ctrl-W, Alt-Backspace, Ctrl-U, Ctrl-K, Alt-D cut; Ctrl-Y yanks the last cut")
    func cutAndYank() {
        var h = EditorHarness()
        h.type("create /app/config data")
        h.type("\u{17}")  // Ctrl-W: back to the previous space
        #expect(h.state == "create /app/config |")
        h.type("\u{17}")
        #expect(h.state == "create |")
        h.type("\u{19}")  // Ctrl-Y
        #expect(h.state == "create /app/config |")
        h.type("\u{1B}\u{7F}")  // Alt-Backspace: only the word part, up to the slash
        #expect(h.state == "create /app/|")
        h.type("\u{1}\u{1B}d")  // Ctrl-A, Alt-D
        #expect(h.state == "| /app/")
        h.type("\u{19}")
        #expect(h.state == "create| /app/")
        h.type("\u{B}")  // Ctrl-K
        #expect(h.state == "create|")
        h.type("\u{15}")  // Ctrl-U
        #expect(h.state == "|")
        h.type("\u{19}")
        #expect(h.state == "create|")
    }

    @Test("Ctrl-T transposes the characters before the cursor")
    func transpose() {
        var h = EditorHarness()
        h.type("sl")
        h.type("\u{14}")
        #expect(h.state == "ls|")
        h.type("\u{1}")
        #expect(h.type("\u{14}") == [.bell])
    }

    @Test("Enter submits the line and records it; empty, repeated and space-led lines are not recorded")
    func submitAndRecord() {
        var h = EditorHarness()
        #expect(h.type("ls /\r").last == .submit("ls /"))
        #expect(h.state == "|")
        h.type("ls /\r")
        h.type("\r")
        h.type(" addauth digest u:p\r")
        h.type("get /a\r")
        #expect(h.editor.history.entries == ["ls /", "get /a"])
    }

    @Test("Up and Down walk the history and come back to the line being typed")
    func historyNavigation() {
        var h = EditorHarness(history: ["one", "two", "three"])
        h.type("dra")
        h.type("\u{1B}[A")
        #expect(h.state == "three|")
        h.type("\u{10}")  // Ctrl-P
        #expect(h.state == "two|")
        h.type("\u{1B}[A")
        #expect(h.state == "one|")
        #expect(h.type("\u{1B}[A") == [.bell])
        h.type("\u{1B}[B")
        #expect(h.state == "two|")
        h.type("\u{E}\u{1B}[B")  // Ctrl-N, Down
        #expect(h.state == "dra|")
        #expect(h.type("\u{1B}[B") == [.bell])
        h.type("\u{1B}[A\r")
        #expect(h.actions.last == .submit("three"))
        // Repeating the previous line does not record it twice.
        #expect(h.editor.history.entries == ["one", "two", "three"])
    }

    @Test("Ctrl-R searches backwards, again for older, Enter runs the match")
    func reverseSearch() {
        var h = EditorHarness(history: ["create /a x", "get /a", "create /b y", "ls /"])
        h.type("\u{12}")
        #expect(h.editor.display.prompt == "(reverse-i-search)`': ")
        h.type("cre")
        #expect(h.editor.display.prompt == "(reverse-i-search)`cre': ")
        #expect(h.editor.display.text == "create /b y")
        #expect(h.editor.display.cursor == 0)
        h.type("\u{12}")
        #expect(h.editor.display.text == "create /a x")
        let missing = h.type("\u{12}")
        #expect(missing.contains(.bell))
        #expect(h.editor.display.prompt == "(failed reverse-i-search)`cre': ")
        #expect(h.editor.display.text == "create /a x")
        #expect(h.type("\r") == [.submit("create /a x")])
        #expect(!h.editor.isSearching)
    }

    @Test("a search key that is not for the search accepts the match and acts; Ctrl-G and Escape restore the line")
    func searchExits() {
        var h = EditorHarness(history: ["get /alpha", "ls /beta"])
        h.type("typed")
        h.type("\u{12}alp")
        h.type("\u{5}")  // Ctrl-E: accept, then go to the end
        #expect(!h.editor.isSearching)
        #expect(h.state == "get /alpha|")
        h.type("\u{15}typed\u{12}bet\u{7}")  // Ctrl-G
        #expect(h.state == "typed|")
        h.type("\u{12}bet")
        h.type("\u{1B}")  // a lone Escape (flushed)
        #expect(h.state == "typed|")
        h.type("\u{12}beta\u{7F}\u{7F}\u{7F}\u{7F}")
        #expect(h.editor.display.prompt == "(reverse-i-search)`': ")
        h.type("\u{12}")  // an empty query reuses the last one
        #expect(h.editor.display.prompt == "(reverse-i-search)`b': ")
        h.type("\u{1B}[A")  // Up from the match: the entry before it
        #expect(h.state == "get /alpha|")
    }

    @Test("Ctrl-C abandons the line (also during a search); Ctrl-D on an empty line ends input")
    func interruptAndEnd() {
        var h = EditorHarness(history: ["x"])
        h.type("half")
        #expect(h.type("\u{3}") == [.interrupt])
        #expect(h.state == "|")
        h.type("\u{12}x")
        #expect(h.type("\u{3}") == [.interrupt])
        #expect(!h.editor.isSearching && h.state == "|")
        #expect(h.type("\u{4}") == [.endOfInput])
        #expect(h.type("\u{C}") == [.clearScreen])
    }

    @Test("completion: one candidate is inserted with its suffix, several extend to their common prefix or are listed")
    func completion() {
        var h = EditorHarness()
        h.type("get /ap")
        #expect(h.type("\t") == [.complete])
        #expect(h.editor.completionRequest.line == "get /ap" && h.editor.completionRequest.cursor == 7)
        let one = Completion(wordStart: 4, candidates: [.init(replacement: "/app", display: "app", suffix: "")])
        #expect(h.editor.applyCompletion(one) == [.redraw])
        #expect(h.state == "get /app|")
        let two = Completion(wordStart: 4, candidates: [
            .init(replacement: "/app/cache", display: "cache", suffix: ""),
            .init(replacement: "/app/cfg", display: "cfg", suffix: ""),
        ])
        #expect(h.editor.applyCompletion(two) == [.redraw])
        #expect(h.state == "get /app/c|")
        #expect(h.editor.applyCompletion(two) == [.list(["cache", "cfg"]), .redraw])
        #expect(h.state == "get /app/c|")
        #expect(h.editor.applyCompletion(Completion(wordStart: 4, candidates: [])) == [.bell])
        let leaf = Completion(wordStart: 4, candidates: [.init(replacement: "/app/cfg", display: "cfg", suffix: " ")])
        _ = h.editor.applyCompletion(leaf)
        #expect(h.state == "get /app/cfg |")
    }
}

@Suite("key decoding")
struct KeyDecoderTests {
    @Test("sequences split across reads, UTF-8, and a lone Escape")
    func splits() {
        var decoder = KeyDecoder()
        #expect(decoder.decode([0x1B]) == [])
        #expect(decoder.hasPending)
        #expect(decoder.decode(Array("[".utf8)) == [])
        #expect(decoder.decode(Array("A".utf8)) == [.up])
        #expect(decoder.decode([0xC3]) == [])
        #expect(decoder.decode([0xA9, 0x61]) == [.character("é"), .character("a")])
        #expect(decoder.decode([0x1B]) == [])
        #expect(decoder.flush() == [.escape])
        #expect(decoder.decode(Array("\u{1B}[3~\u{1B}[15~\u{1}\r".utf8)) == [.delete, .unknown, .control("a"), .enter])
        #expect(decoder.decode([0xFF]) == [.unknown])
    }
}

@Suite("drawing the line")
struct LineRendererTests {
    @Test("the line is drawn over the row, the cursor put in place")
    func draw() {
        var screen = Screen()
        screen.feed("[zk] old text that is long")
        screen.feed(LineRenderer.render(prompt: "[zk] ", text: "ls /a", cursor: 3, width: 80))
        #expect(screen.cursorLine == "[zk] ls /a")
        #expect(screen.afterCursor == "/a")
    }

    @Test("a line wider than the terminal scrolls sideways to keep the cursor visible")
    func horizontalScroll() {
        let text = String(repeating: "abcdefghij", count: 5)
        var screen = Screen()
        screen.feed(LineRenderer.render(prompt: "> ", text: text, cursor: text.count, width: 20))
        #expect(screen.cursorLine.count <= 19)
        #expect(screen.cursorLine.hasPrefix("> ") && text.hasSuffix(screen.cursorLine.dropFirst(2)))
        screen.feed(LineRenderer.render(prompt: "> ", text: text, cursor: 0, width: 20))
        #expect(screen.cursorLine == "> " + text.prefix(17))
        #expect(screen.afterCursor == String(text.prefix(17)))
    }

    @Test("completions are listed in columns, down then across")
    func columns() {
        #expect(LineRenderer.columns(["a", "bb", "c", "dd", "e"], width: 13) == ["a   c   e", "bb  dd"])
        #expect(LineRenderer.columns(["one"], width: 80) == ["one"])
        #expect(LineRenderer.columns([], width: 80) == [])
    }
}
