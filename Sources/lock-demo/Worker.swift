import Foundation
import Synchronization
import ZooKeeperClient
import ZooKeeperRecipes

/// The `--worker` role: one process, one ZooKeeper session, one contender. It hands out order numbers
/// under the lock until told to stop, printing one ``WorkerMessage`` line per acquisition.
struct Worker {
    struct Settings {
        var connect: String
        var base: ZNodePath
        var mode: LockMode
        var sessionTimeout: Double
    }

    let settings: Settings

    /// Parses `--worker --connect X --base /P --mode M --session-timeout S` (the parent writes them).
    static func settings(from argv: [String]) throws(UsageError) -> Settings {
        var values: [String: String] = [:]
        var rest = argv[...]
        while let key = rest.popFirst() {
            guard key.hasPrefix("--"), let value = rest.popFirst() else { throw UsageError("worker: bad argument \(key)") }
            values[String(key.dropFirst(2))] = value
        }
        guard let connect = values["connect"], let baseText = values["base"],
              let base = try? ZNodePath(baseText), let mode = LockMode(rawValue: values["mode"] ?? "recipe"),
              let timeout = Double(values["session-timeout"] ?? "3") else {
            throw UsageError("worker: needs --connect, --base, --mode, --session-timeout")
        }
        return Settings(connect: connect, base: base, mode: mode, sessionTimeout: timeout)
    }

    static func send(_ message: WorkerMessage) {
        FileHandle.standardOutput.write(Data((message.line + "\n").utf8))
    }

    func run() async -> Int32 {
        // Every watch notification this session receives, whatever the lock code does with it.
        let watchEvents = Atomic<Int>(0)
        let control = WorkerControl()
        let client: ZooKeeperClient
        do {
            var configuration = try ZooKeeperConfiguration(connectionString: settings.connect)
            configuration.sessionTimeout = .milliseconds(Int64(settings.sessionTimeout * 1000))
            configuration.logHandler = ZooKeeperLogHandler { _, message in
                if message.hasPrefix("watch notification") { watchEvents.add(1, ordering: .relaxed) }
            }
            client = try await ZooKeeperClient.connect(configuration)
        } catch {
            Self.send(.failed("cannot connect to \(settings.connect): \(error)"))
            return 1
        }
        Self.send(.ready(session: client.session?.id ?? 0,
                         timeoutMilliseconds: Int64(client.session?.timeoutMilliseconds ?? 0)))
        control.startReading()
        await control.waitForGo()

        let counter = try! settings.base.appending("next-order")
        let directory = try! settings.base.appending("lock")
        let count = Atomic<Int>(0)
        let failure = Mutex<String?>(nil)
        let mode = settings.mode
        let work = Task {
            let mutex = DistributedMutex(client: client, path: directory)
            let herd = HerdLock(client: client, directory: directory)
            while !control.isStopping {
                do {
                    let started = MonotonicClock.nanos()
                    let section: @Sendable (Int64) async throws -> Void = { token in
                        try await Self.critical(client: client, counter: counter, control: control,
                                                started: started, fencingToken: token)
                        count.add(1, ordering: .relaxed)
                    }
                    switch mode {
                    case .recipe:
                        try await mutex.withLock { lease in try await section(lease.fencingToken) }
                    case .herd:
                        let held = try await herd.acquire()
                        do { try await section(held.fencingToken) } catch {
                            try? await herd.release(held)
                            throw error
                        }
                        try await herd.release(held)
                    case .none:
                        try await section(0)  // control: no exclusion at all
                    }
                } catch is CancellationError {
                    break
                } catch {
                    if control.isStopping { break }
                    failure.withLock { $0 = "\(error)" }
                    break
                }
            }
        }
        control.setWork(work)
        await work.value
        await client.close()
        if let message = failure.withLock({ $0 }) {
            Self.send(.failed(message))
            return 1
        }
        Self.send(.done(acquisitions: count.load(ordering: .relaxed), watchEvents: watchEvents.load(ordering: .relaxed)))
        return 0
    }

    /// The critical section: take the next order number. The write has no version check on purpose —
    /// only the lock keeps two workers from reading the same number.
    private static func critical(
        client: ZooKeeperClient, counter: ZNodePath, control: WorkerControl, started: Int64, fencingToken: Int64
    ) async throws {
        let enter = MonotonicClock.nanos()
        let stall = try control.enterCritical()
        defer { control.exitCritical() }
        let (data, _) = try await client.getData(counter)
        guard let number = Int64(String(decoding: data, as: UTF8.self)) else {
            throw DemoError("next-order holds \"\(String(decoding: data, as: UTF8.self))\", not a number")
        }
        _ = try await client.setData(counter, data: Array(String(number + 1).utf8))
        var acquisition = Acquisition(orderNumber: number, enterNanos: enter, exitNanos: 0,
                                      waitNanos: enter - started, fencingToken: fencingToken)
        if stall {
            // A holder that hangs (GC pause, deadlock, …) until the parent SIGKILLs it.
            send(.holding(acquisition))
            // Blocking on purpose: nothing (not even cancellation) gets this holder out but SIGKILL.
            while true { sleep(3600) }
        }
        acquisition.exitNanos = MonotonicClock.nanos()
        send(.acquired(acquisition))
    }
}
