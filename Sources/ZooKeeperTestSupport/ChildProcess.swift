// Spawning and reaping child processes with posix_spawn, so the fixture knows the exact PID it
// must signal and wait for (Foundation's Process hides the PID's lifecycle and reaps on its own).

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum ChildProcess {
    /// Serialises our spawns with ``makeLifelinePipe()`` so no child of ours can inherit a pipe
    /// end in the window between `pipe()` and setting close-on-exec.
    private static let spawnLock = Mutex(())

    /// A pipe whose both ends are close-on-exec.
    static func makeLifelinePipe() throws(TestSupportError) -> (read: Int32, write: Int32) {
        try spawnLock.withLock { _ throws(TestSupportError) in
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw .posix("pipe") }
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
            return (ends[0], ends[1])
        }
    }

    enum Input {
        case devNull
        /// Duplicate this descriptor onto the child's stdin.
        case descriptor(Int32)
    }

    /// Starts `path` with `arguments` (argv[0] = `path`), stdin from `input`, stdout and stderr
    /// appended to `outputFile` (or /dev/null). Signal dispositions and mask are reset to
    /// defaults so an ignored SIGTERM/SIGPIPE in the test process cannot leak into the child.
    /// Other descriptors are inherited unless close-on-exec: every descriptor this module opens
    /// is (Swift's Glibc does not export `posix_spawn_file_actions_addclosefrom_np` or `pipe2`).
    static func spawn(
        path: String, arguments: [String], input: Input, outputFile: String?, newProcessGroup: Bool = false
    ) throws(TestSupportError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        switch input {
        case .devNull:
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .descriptor(let fd):
            posix_spawn_file_actions_adddup2(&actions, fd, 0)
        }
        posix_spawn_file_actions_addopen(
            &actions, 1, outputFile ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGCHLD, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
        if newProcessGroup {
            // The child leads a group of its own (pgid = its pid): signalling -pid reaches the
            // processes a wrapper script starts too (zkCli.sh runs java as its child).
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let cArguments = ([path] + arguments).map { strdup($0) }
        defer { cArguments.forEach { free($0) } }
        let argv = cArguments + [nil]
        var pid: pid_t = 0
        let rc = spawnLock.withLock { _ in posix_spawn(&pid, path, &actions, &attributes, argv, environ) }
        if rc != 0 { throw .posix("posix_spawn(\(path))", rc) }
        return pid
    }

    /// Reaps `pid` if it has exited; returns its wait status, or nil while it still runs.
    /// A pid that is not our child (already reaped) counts as exited with status -1.
    static func tryReap(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        while true {
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid { return status }
            if rc == 0 { return nil }
            if errno == EINTR { continue }
            return -1
        }
    }

    /// Waits (polling with a deadline, without blocking a cooperative thread) for `pid` to exit
    /// and reaps it. Returns false if it still runs at the deadline.
    static func waitForExit(_ pid: pid_t, within timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if tryReap(pid) != nil { return true }
            if clock.now >= deadline { return false }
            do {
                try await Task.sleep(for: .milliseconds(10))
            } catch {
                usleep(10_000)  // cancelled: keep the bound without spinning
            }
        }
    }

    /// Synchronous variant for deinit and atexit paths: bounded, polls every 5 ms.
    static func waitForExitBlocking(_ pid: pid_t, within timeout: Duration) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if tryReap(pid) != nil { return true }
            if clock.now >= deadline { return false }
            usleep(5_000)
        }
    }

    /// Human-readable wait status.
    static func describe(status: Int32) -> String {
        if status == -1 { return "exited (status unknown)" }
        let signal = status & 0x7F
        if signal == 0 { return "exited with code \((status >> 8) & 0xFF)" }
        return "killed by signal \(signal)"
    }
}
