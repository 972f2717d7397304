import Foundation
import Synchronization
import ToolSupport
import ZooKeeperClient
import ZooKeeperInspector
import ZooKeeperServer

/// The parent: a server (embedded unless `--connect`), the znodes, the worker processes, the live
/// progress, the kill, and the report.
struct DemoRun {
    let options: DemoOptions

    func run() async -> Int32 {
        var options = options
        if options.killHolder && options.duration < options.sessionTimeout + 6 {
            options.duration = options.sessionTimeout + 6
            note("--kill-holder: running \(Int(options.duration)) s so the lock can pass after the session expires")
        }
        // 1. The server.
        var server: EmbeddedServer?
        let connect: String
        if let given = options.connect {
            connect = given
        } else {
            do {
                var configuration = EmbeddedServer.defaultConfiguration
                configuration.tickTime = 500  // allows 1 s sessions; expiry is checked every tick
                server = try await EmbeddedServer.start(configuration: configuration)
            } catch {
                note("cannot start the embedded server: \(error)")
                return 1
            }
            connect = server!.connectString
            note("embedded server on \(connect) (durable, temporary directory)")
        }
        // Every path below stops the server itself (an async stop cannot run in a defer).

        // 2. The znodes: <base>/next-order = "1", <base>/lock/ (the lock directory).
        let base = try! ZNodePath("/lock-demo-\(UUID().uuidString.prefix(8).lowercased())")
        let admin: ZooKeeperClient
        do {
            admin = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: connect))
            try await admin.create(base)
            try await admin.create(try base.appending("next-order"), data: Array("1".utf8))
            try await admin.create(try base.appending("lock"))
        } catch {
            note("cannot prepare \(base.string) on \(connect): \(error)")
            await server?.stop()
            return 1
        }

        // The inspector, if asked: the lock directory's contenders and handoffs, live in a browser.
        var inspector: ZooKeeperInspector?
        if let listen = options.inspect {
            do {
                inspector = try await DemoInspector.start(client: admin, connect: connect, host: listen.host, port: listen.port)
            } catch {
                note("cannot start the inspector on \(listen.host):\(listen.port): \(error)")
                await removeTree(admin, base)
                await admin.close()
                await server?.stop()
                return 1
            }
        }

        // 3. The workers.
        let outcome = await runWorkers(options: options, connect: connect, base: base)
        await inspector?.stop()
        var finalCounter: Int64?
        if let (data, _) = try? await admin.getData(try base.appending("next-order")) {
            finalCounter = Int64(String(decoding: data, as: UTF8.self))
        }
        await removeTree(admin, base)
        await admin.close()
        if let server { await server.stop() }
        guard let outcome else { return 130 }
        let report = Report(options: options, connect: options.connect ?? "embedded server \(connect)", log: outcome.log,
                            startNanos: outcome.startNanos, stopNanos: outcome.stopNanos, finalCounter: finalCounter)
        report.print()
        return report.exitStatus
    }

    struct Outcome {
        var log: RunLog.State
        var startNanos: Int64
        var stopNanos: Int64
    }

    /// Spawns, starts, watches and stops the workers; nil if interrupted.
    private func runWorkers(options: DemoOptions, connect: String, base: ZNodePath) async -> Outcome? {
        let executable = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                             ?? CommandLine.arguments[0])
        let arguments = ["--worker", "--connect", connect, "--base", base.string, "--mode", options.mode.rawValue,
                         "--session-timeout", String(options.sessionTimeout)]
        let workers = (0..<options.workers).map { WorkerProcess(index: $0, executable: executable, arguments: arguments) }
        let killHolder = options.killHolder
        let log = RunLog { index in
            guard killHolder else { return nil }
            workers[index].kill()
            return MonotonicClock.nanos()
        }
        let lastResort = Interrupts.addCleanup { for worker in workers { worker.kill() } }
        defer { Interrupts.removeCleanup(lastResort) }
        func abort() -> Outcome? {
            for worker in workers { worker.kill() }
            for worker in workers { worker.waitUntilExit() }
            return nil
        }

        for worker in workers {
            do {
                try worker.start(onMessage: { log.record(worker: $0, message: $1, line: $2) },
                                 onExit: { log.exited(worker: $0) })
            } catch {
                note("cannot start worker \(worker.index) (\(executable.path)): \(error)")
                return abort()
            }
        }
        // Wait for every session (or a failure).
        let readyDeadline = MonotonicClock.nanos() + 30_000_000_000
        while true {
            let state = log.snapshot
            if state.sessions.count == workers.count { break }
            if !state.failures.isEmpty || !state.exited.isEmpty || MonotonicClock.nanos() > readyDeadline {
                note("workers did not all connect: \(state.failures.joined(separator: "; "))")
                return abort()
            }
            if Interrupts.requested.load(ordering: .relaxed) { return abort() }
            try? await Task.sleep(for: .milliseconds(20))
        }
        note("\(workers.count) worker processes connected (one session each); mode \(options.mode.rawValue)"
             + (options.mode == .herd ? " — the herd-effect ANTI-PATTERN" : ""))

        for worker in workers { worker.send("go") }
        let start = MonotonicClock.nanos()
        var duration = options.duration
        let granted = Double(log.snapshot.grantedTimeouts.values.max() ?? 0) / 1000
        if killHolder && duration < granted + 6 {
            // The server granted a longer session than asked (Apache: at least 2 × tickTime).
            duration = granted + 6
            note("--kill-holder: the server granted \(granted) s sessions; running \(Int(duration)) s")
        }
        let end = start + Int64(duration * 1e9)
        let stallAt = start + Int64(min(2.0, options.duration / 4) * 1e9)
        var stallSent = false
        var progress = Progress()
        while MonotonicClock.nanos() < end {
            if Interrupts.requested.load(ordering: .relaxed) { progress.finish(); return abort() }
            let now = MonotonicClock.nanos()
            let state = log.snapshot
            if killHolder && !stallSent && now >= stallAt {
                // Pick one worker; it stalls inside the lock on its next turn and is SIGKILLed there.
                workers[0].send("stall")
                stallSent = true
            }
            var status = "order# \(state.acquisitions.count + state.killedHolders.count + 1) next"
            if let killed = state.killedAtNanos {
                let after = state.acquisitions.first { $0.enterNanos > killed }
                status += after == nil
                    ? String(format: "  · holder (worker %d) KILLED %.1fs ago, lock held by a dead process", state.killedWorker ?? -1, Double(now - killed) / 1e9)
                    : "  · lock passed on after the kill"
            }
            if !state.failures.isEmpty { status += "  · \(state.failures.count) worker failure(s)" }
            progress.update(elapsed: Double(now - start) / 1e9, count: state.acquisitions.count, now: now, note: status)
            try? await Task.sleep(for: .milliseconds(250))
        }
        progress.finish()
        let stop = MonotonicClock.nanos()
        for worker in workers { worker.send("stop") }
        // Let them finish their turn, release, report, close their sessions.
        let doneDeadline = MonotonicClock.nanos() + 15_000_000_000
        while log.snapshot.exited.count < workers.count && MonotonicClock.nanos() < doneDeadline {
            if Interrupts.requested.load(ordering: .relaxed) { return abort() }
            try? await Task.sleep(for: .milliseconds(20))
        }
        for worker in workers where worker.isRunning { worker.kill() }
        for worker in workers { worker.waitUntilExit() }
        return Outcome(log: log.snapshot, startNanos: start, stopNanos: stop)
    }

    /// Deletes the demo's znodes (best effort: a real ensemble should not keep them).
    private func removeTree(_ client: ZooKeeperClient, _ path: ZNodePath) async {
        if let children = try? await client.getChildren(path) {
            for child in children {
                if let childPath = try? path.appending(child) { await removeTree(client, childPath) }
            }
        }
        try? await client.delete(path)
    }
}

func note(_ message: String) {
    FileHandle.standardError.write(Data("lock-demo: \(message)\n".utf8))
}
