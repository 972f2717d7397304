import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `zk-cli` on a pseudo-terminal: keystrokes in through the master side, the screen assembled from
/// what it writes. The child is signalled by its PID (and process group) only.
final class TerminalSession {
    let master: Int32
    let pid: pid_t
    private(set) var screen = Screen()
    /// Everything written so far, raw (for failure messages).
    private(set) var transcript = ""
    private var reaped: Int32?

    /// Starts `binary` with `arguments` on a new 100×24 pseudo-terminal, with `HOME=home` and `TERM=xterm`.
    init(binary: String, arguments: [String], home: String) throws {
        // posix_openpt is open("/dev/ptmx"); grantpt is a no-op with devpts.
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0, let name = Self.unlockAndName(master) else {
            if master >= 0 { close(master) }
            throw TerminalError("cannot allocate a pseudo-terminal (errno \(errno))")
        }
        var size = winsize(ws_row: 24, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        let slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else { close(master); throw TerminalError("cannot open \(name)") }
        defer { close(slave) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for target: Int32 in [0, 1, 2] { posix_spawn_file_actions_adddup2(&actions, slave, target) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A group of its own, so cleanup can signal it and anything it starts by this PID.
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))

        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = home
        environment["TERM"] = "xterm"
        let cArguments = ([binary] + arguments).map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArguments + cEnvironment).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, binary, &actions, &attributes, cArguments, cEnvironment)
        guard rc == 0 else { close(master); throw TerminalError("posix_spawn failed: \(rc)") }
        self.master = master
        self.pid = pid
    }

    /// `unlockpt` and `ptsname_r`: libc has them, but Swift's Glibc module does not export them
    /// (they need _XOPEN_SOURCE), so they are looked up by name.
    private static func unlockAndName(_ master: Int32) -> String? {
        typealias Unlock = @convention(c) (Int32) -> Int32
        typealias Name = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32
        guard let unlockSymbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "unlockpt"),
              let nameSymbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "ptsname_r")
        else { return nil }
        let unlock = unsafeBitCast(unlockSymbol, to: Unlock.self)
        let name = unsafeBitCast(nameSymbol, to: Name.self)
        guard unlock(master) == 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: 128)
        guard name(master, &buffer, buffer.count) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        stop()
        close(master)
    }

    /// Types `keys` (bytes as a terminal sends them: "\r" for Enter, "\u{1}" for Ctrl-A…).
    func type(_ keys: String) {
        var bytes = Array(keys.utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            bytes = bytes.dropFirst(count)
        }
    }

    /// Reads what has arrived, without blocking.
    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        while poll(&descriptor, 1, 0) > 0, descriptor.revents & Int16(POLLIN) != 0 {
            let count = read(master, &buffer, buffer.count)
            guard count > 0 else { return }
            let text = String(decoding: buffer[0..<count], as: UTF8.self)
            transcript += text
            screen.feed(text)
        }
    }

    /// Waits (bounded) until the screen satisfies `condition`; polls every few milliseconds.
    func waitFor(_ what: String, timeout: Duration = .seconds(20), _ condition: (Screen) -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            drain()
            if condition(screen) { return }
            guard clock.now < deadline else {
                throw TerminalError("timed out waiting for \(what); screen:\n\(screen.lines.joined(separator: "\n"))")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until the cursor's row reads `line` (trailing spaces aside: a row has none).
    func waitForLine(_ line: String, timeout: Duration = .seconds(20)) async throws {
        let line = line.replacing(/\ +$/, with: "")
        try await waitFor("the line \"\(line)\"", timeout: timeout) { $0.cursorLine == line }
    }

    /// Waits (bounded) for the exit; returns the exit code (nil if it still runs or was signalled).
    func waitForExit(timeout: Duration = .seconds(20)) async -> Int32? {
        guard let status = await waitForStatus(timeout: timeout) else { return nil }
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : nil
    }

    /// Waits (bounded) for the exit; returns the raw wait status, or nil if it still runs.
    func waitForStatus(timeout: Duration = .seconds(20)) async -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            drain()
            if let status = tryReap() { return status }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    private func tryReap() -> Int32? {
        if let reaped { return reaped }
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        if rc == pid { reaped = status; return status }
        if rc < 0 && errno != EINTR { reaped = -1; return -1 }
        return nil
    }

    /// SIGKILLs the child's group unless it has exited, and reaps it.
    func stop() {
        guard tryReap() == nil else { return }
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = status
    }
}

struct TerminalError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
