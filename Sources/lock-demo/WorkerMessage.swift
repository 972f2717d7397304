/// One line a worker prints on stdout; the parent parses them. Space-separated, first word the kind.
///
/// Parent → worker, on the worker's stdin: `go`, `stall` (hold the lock forever on the next
/// acquisition, to be killed), `stop`. EOF on stdin means the parent is gone: the worker exits.
enum WorkerMessage: Sendable, Equatable {
    /// Connected; the ZooKeeper session id and the timeout the server granted (ms).
    case ready(session: Int64, timeoutMilliseconds: Int64)
    /// One acquisition: the order number handed out, when the holder entered and left the critical
    /// section (monotonic ns), how long `acquire` waited, and the lock's fencing token.
    case acquired(Acquisition)
    /// Inside the lock and stalling (asked to): the parent kills this process now.
    case holding(Acquisition)
    /// Finished: watch notifications received over the whole run.
    case done(acquisitions: Int, watchEvents: Int)
    case failed(String)

    var line: String {
        switch self {
        case let .ready(session, timeout): return "READY \(session) \(timeout)"
        case let .acquired(a): return "ACQ \(a.fields)"
        case let .holding(a): return "HOLD \(a.fields)"
        case let .done(count, events): return "DONE \(count) \(events)"
        case let .failed(message): return "FAIL \(message)"
        }
    }

    init?(line: Substring) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let kind = words.first else { return nil }
        let numbers = words.dropFirst().map { Int64($0) }
        switch kind {
        case "READY":
            guard numbers.count == 2, let session = numbers[0], let timeout = numbers[1] else { return nil }
            self = .ready(session: session, timeoutMilliseconds: timeout)
        case "ACQ", "HOLD":
            guard let acquisition = Acquisition(numbers) else { return nil }
            self = kind == "ACQ" ? .acquired(acquisition) : .holding(acquisition)
        case "DONE":
            guard numbers.count == 2, let count = numbers[0], let events = numbers[1] else { return nil }
            self = .done(acquisitions: Int(count), watchEvents: Int(events))
        case "FAIL":
            self = .failed(words.dropFirst().joined(separator: " "))
        default:
            return nil
        }
    }
}

struct Acquisition: Sendable, Equatable {
    var orderNumber: Int64
    var enterNanos: Int64
    /// For a holder that was killed: the kill time (set by the parent).
    var exitNanos: Int64
    var waitNanos: Int64
    var fencingToken: Int64
    /// Which worker (set by the parent).
    var worker = -1

    init(orderNumber: Int64, enterNanos: Int64, exitNanos: Int64, waitNanos: Int64, fencingToken: Int64) {
        self.orderNumber = orderNumber
        self.enterNanos = enterNanos
        self.exitNanos = exitNanos
        self.waitNanos = waitNanos
        self.fencingToken = fencingToken
    }

    init?(_ numbers: [Int64?]) {
        guard numbers.count == 5, let order = numbers[0], let enter = numbers[1], let exit = numbers[2],
              let wait = numbers[3], let token = numbers[4] else { return nil }
        self.init(orderNumber: order, enterNanos: enter, exitNanos: exit, waitNanos: wait, fencingToken: token)
    }

    var fields: String { "\(orderNumber) \(enterNanos) \(exitNanos) \(waitNanos) \(fencingToken)" }
}
