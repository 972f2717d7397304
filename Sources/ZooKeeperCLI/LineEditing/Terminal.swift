import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The terminal on stdin/stdout: raw mode on and off, size, bytes in and out.
///
/// Raw mode is on only while a line is being edited, so commands print (and can be interrupted)
/// as usual; the original mode comes back on ``restore()``, and on SIGTERM, SIGHUP or SIGQUIT before
/// the process dies of it — a shell must never leave its user's terminal without echo.
public final class Terminal: Sendable {
    public let input: Int32
    public let output: Int32
    /// The mode to go back to while raw mode is on; nil otherwise.
    private let saved = Mutex<termios?>(nil)
    private let signalSources = Mutex<[any DispatchSourceSignal]>([])
    /// The line being edited as last drawn (nil when none is): output that arrives meanwhile (a watch
    /// event) is printed above it, then it is drawn again. The lock also keeps such writes whole.
    private let editedLine = Mutex<String?>(nil)

    public init(input: Int32 = 0, output: Int32 = 1) {
        self.input = input
        self.output = output
    }

    /// Whether both ends are terminals that understand cursor movement (not `TERM=dumb`).
    public static func isInteractive(input: Int32 = 0, output: Int32 = 1, environment: [String: String]) -> Bool {
        guard isatty(input) != 0, isatty(output) != 0 else { return false }
        let term = environment["TERM"] ?? ""
        return term != "dumb" && term != "cons25" && term != "emacs"
    }

    /// Installs the restore-then-die handlers (idempotent).
    public func restoreOnTerminatingSignals() {
        signalSources.withLock { sources in
            guard sources.isEmpty else { return }
            for number in [SIGTERM, SIGHUP, SIGQUIT] {
                signal(number, SIG_IGN)  // delivered to the source below, not the default action
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [self] in
                    restore()
                    // Die of the signal as if unhandled (the parent sees how we ended). Dispatch's
                    // threads block signals, so unblock it here, where raise delivers it.
                    signal(number, SIG_DFL)
                    var set = sigset_t()
                    sigemptyset(&set)
                    sigaddset(&set, number)
                    pthread_sigmask(SIG_UNBLOCK, &set, nil)
                    raise(number)
                }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// Raw mode: bytes as typed, no echo, no signals from Ctrl-C/Z/\, no flow control; output
    /// processing stays on so `\n` still starts a new row for everything else that prints.
    public func enableRawMode() -> Bool {
        saved.withLock { saved in
            if saved != nil { return true }
            var original = termios()
            guard tcgetattr(input, &original) == 0 else { return false }
            var raw = original
            raw.c_iflag &= ~tcflag_t(BRKINT | ICRNL | INPCK | ISTRIP | IXON)
            raw.c_cflag |= tcflag_t(CS8)
            raw.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN | ISIG)
            withUnsafeMutableBytes(of: &raw.c_cc) { cc in
                cc[Int(VMIN)] = 1
                cc[Int(VTIME)] = 0
            }
            guard tcsetattr(input, TCSADRAIN, &raw) == 0 else { return false }
            saved = original
            return true
        }
    }

    /// Puts the original mode back (if raw mode is on).
    public func restore() {
        saved.withLock { saved in
            guard var original = saved else { return }
            _ = tcsetattr(input, TCSADRAIN, &original)
            saved = nil
        }
    }

    /// Columns, from the terminal (80 if it does not say).
    public var width: Int {
        var size = winsize()
        guard ioctl(output, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// Draws the edited line (`rendered` comes from ``LineRenderer``) and remembers it.
    public func drawEditedLine(_ rendered: String) {
        editedLine.withLock { line in
            line = rendered
            write(rendered)
        }
    }

    /// Writes `text` below the edited line, which is then forgotten (the line was accepted or abandoned).
    public func endEditedLine(_ text: String) {
        editedLine.withLock { line in
            line = nil
            write(text)
        }
    }

    /// Prints `line` (and a newline) on `descriptor`; if a line is being edited, above it, and draws it again.
    public func printAbove(_ line: String, descriptor: Int32) {
        editedLine.withLock { edited in
            guard let edited else { return write(line + "\n", to: descriptor) }
            write("\r" + LineRenderer.eraseToEndOfLine)
            write(line + "\r\n", to: descriptor)
            write(edited)
        }
    }

    /// Writes all of `text`.
    public func write(_ text: String) { write(text, to: output) }

    private func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            bytes = bytes.dropFirst(count)
        }
    }

    /// Blocks for the next bytes typed; nil at end of input. Call off the cooperative pool.
    public func readBlocking() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let count = read(input, &buffer, buffer.count)
            if count > 0 { return Array(buffer[0..<count]) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            return nil
        }
    }

    /// Whether a byte arrives within `milliseconds` (tells a lone Escape from an escape sequence).
    public func waitForInput(milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }
}

/// `write(2)`, named apart from ``Terminal/write(_:)``.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, bytes, count)
}
