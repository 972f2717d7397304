import Dispatch

/// Reads lines from a terminal with ``LineEditor``: raw mode while a line is edited, each key
/// applied and the line redrawn, Tab answered by ``Completer`` against `directory`, accepted lines
/// saved to the history file.
public actor TerminalLineReader {
    let terminal: Terminal
    let completer: Completer
    let directory: any ZNodeDirectory
    let historyFile: HistoryFile?
    var editor: LineEditor
    var decoder = KeyDecoder()
    /// Keys typed after Enter in the same burst (a paste): the next lines' first keys.
    var typeahead: [Key] = []
    /// How long to wait for the rest of an escape sequence before calling ESC a key (as readline).
    static let escapeTimeoutMilliseconds: Int32 = 50

    public init(terminal: Terminal, completer: Completer, directory: any ZNodeDirectory, historyFile: HistoryFile?) {
        self.terminal = terminal
        self.completer = completer
        self.directory = directory
        self.historyFile = historyFile
        editor = LineEditor(history: historyFile?.load() ?? History())
    }

    /// The next line, or nil at end of input (Ctrl-D on an empty line, or the terminal closed).
    public func readLine(prompt: String) async -> String? {
        editor.startLine(prompt: prompt)
        guard terminal.enableRawMode() else { return nil }
        defer { terminal.restore() }
        draw()
        while true {
            if typeahead.isEmpty {
                guard let bytes = await nextBytes() else {
                    terminal.endEditedLine("\r\n")
                    return nil
                }
                typeahead = decoder.decode(bytes)
                if decoder.hasPending, !terminal.waitForInput(milliseconds: Self.escapeTimeoutMilliseconds) {
                    typeahead += decoder.flush()
                }
            }
            while !typeahead.isEmpty {
                let key = typeahead.removeFirst()
                var actions = editor.handle(key)
                while !actions.isEmpty {
                    let action = actions.removeFirst()
                    switch action {
                    case .redraw: draw()
                    case .submit(let line):
                        // The accepted line stays on screen after its prompt (not a search prompt).
                        terminal.endEditedLine(LineRenderer.render(prompt: editor.prompt, text: line, cursor: line.count, width: terminal.width) + "\r\n")
                        if let historyFile { append(line, to: historyFile) }
                        return line
                    case .endOfInput:
                        terminal.endEditedLine("\r\n")
                        return nil
                    case .interrupt:
                        terminal.endEditedLine("^C\r\n")
                        draw()
                    case .complete:
                        let request = editor.completionRequest
                        let completion = await completer.complete(line: request.line, cursor: request.cursor, directory: directory)
                        actions = editor.applyCompletion(completion) + actions
                    case .list(let items):
                        terminal.endEditedLine("\r\n" + LineRenderer.columns(items, width: terminal.width).map { $0 + "\r\n" }.joined())
                    case .bell: terminal.write("\u{7}")
                    case .clearScreen:
                        terminal.endEditedLine("\u{1B}[H\u{1B}[2J")
                        draw()
                    }
                }
            }
        }
    }

    /// Adds `line` to the file as it is now (not this session's copy), so two shells open at
    /// once both keep their lines; ``History`` decides what is kept and caps the file.
    private func append(_ line: String, to file: HistoryFile) {
        var onDisk = file.load(limit: editor.history.limit)
        if onDisk.add(line) { file.save(onDisk) }
    }

    private func draw() {
        let display = editor.display
        terminal.drawEditedLine(LineRenderer.render(prompt: display.prompt, text: display.text, cursor: display.cursor, width: terminal.width))
    }

    /// A blocking read, on a dispatch thread so the cooperative pool (and the client's callbacks) keep running.
    private func nextBytes() async -> [UInt8]? {
        let terminal = terminal
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: terminal.readBlocking()) }
        }
    }
}
