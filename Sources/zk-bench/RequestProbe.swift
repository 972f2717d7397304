import Foundation
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// Counts the requests one uncontended acquire (and one release) sends, from the server's own
/// per-connection counter: the `recved=` of our session's line in the `cons` four-letter word,
/// read before and after each call. Our client exposes no request counter, and needs none for this.
///
/// Notable behaviours: this counts *requests*, not round trips — requests the client pipelines
/// (sent before the first reply arrives) count one each. The median over a few cycles hides a ping
/// or the first acquire's parent creation. Needs `cons` whitelisted (both servers zk-bench starts
/// do); otherwise it warns and reports nothing. The four-letter word is a short blocking exchange
/// on loopback, outside the measured window.
enum RequestProbe {
    struct Counts: Sendable {
        var acquire: Double
        var release: Double

        var json: [String: Any] { ["acquire": acquire, "release": release] }
    }

    static func measure(_ lock: DistributedMutex, cycles: Int = 21) async throws -> Counts? {
        guard let server = lock.client.currentServer, let session = lock.client.session?.id else {
            Output.warn("requests per acquire not counted: the client is not connected")
            return nil
        }
        var acquires: [Int] = []
        var releases: [Int] = []
        for _ in 0..<cycles {
            guard let before = received(server, session) else { return nil }
            let lease = try await lock.acquire(timeout: LockWindow.acquireTimeout)
            guard let acquired = received(server, session) else {
                try await lease.release()
                return nil
            }
            try await lease.release()
            guard let released = received(server, session) else { return nil }
            acquires.append(acquired - before)
            releases.append(released - acquired)
        }
        return Counts(acquire: median(acquires), release: median(releases))
    }

    private static func median(_ values: [Int]) -> Double {
        let sorted = values.sorted()
        return Double(sorted[sorted.count / 2])
    }

    /// Requests the server has received on `session`'s connection, or nil (with a warning).
    private static func received(_ server: ServerAddress, _ session: Int64) -> Int? {
        let reply: String
        do {
            reply = try sendFourLetterWord("cons", host: server.host, port: server.port, timeout: .seconds(5))
        } catch {
            Output.warn("requests per acquire not counted: `cons` to \(server) failed: \(error)")
            return nil
        }
        for line in reply.split(separator: "\n") {
            if field(line, "sid=0x").flatMap({ UInt64($0, radix: 16) }) == UInt64(bitPattern: session),
               let count = field(line, "recved=").flatMap({ Int($0) }) {
                return count
            }
        }
        Output.warn("requests per acquire not counted: the server's `cons` reply has no line for our session (\(reply.prefix(200)))")
        return nil
    }

    /// The text after `key` up to the next `,` or `)`.
    private static func field(_ line: Substring, _ key: String) -> Substring? {
        guard let start = line.range(of: key)?.upperBound else { return nil }
        let rest = line[start...]
        return rest[..<(rest.firstIndex(where: { $0 == "," || $0 == ")" }) ?? rest.endIndex)]
    }
}

/// Round trips of one uncontended acquire (and release), timed while our embedded server holds every
/// reply back by `delay`: each call's time ÷ `delay`, rounded (the call's own work, well under half a
/// delay, drops out), median of a few cycles. Requests the client sends together (pipelined) wait out
/// one delay between them, so this counts round trips, not requests. `--embedded` only: Apache
/// ZooKeeper has no such switch.
enum RoundTripProbe {
    static func measure(
        _ lock: DistributedMutex, server: EmbeddedServer, delay: Duration = .milliseconds(25), cycles: Int = 5
    ) async throws -> RequestProbe.Counts {
        await server.delayReplies(by: delay)
        var acquires: [Double] = []
        var releases: [Double] = []
        do {
            let unit = Double(delay.components.seconds) * 1e9 + Double(delay.components.attoseconds) / 1e9
            for _ in 0..<cycles {
                let start = Clock.nanos()
                let lease = try await lock.acquire(timeout: LockWindow.acquireTimeout)
                let acquired = Clock.nanos()
                try await lease.release()
                let end = Clock.nanos()
                acquires.append((Double(acquired - start) / unit).rounded())
                releases.append((Double(end - acquired) / unit).rounded())
            }
        } catch {
            await server.delayReplies(by: nil)
            throw error
        }
        await server.delayReplies(by: nil)
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return RequestProbe.Counts(acquire: median(acquires), release: median(releases))
    }

    /// The same for Curator: the Java harness's uncontended `mutex` run (short) with replies held back;
    /// its acquire and release p50 ÷ `delay`, rounded.
    static func measureCurator(
        _ java: JavaHarness, connect: String, server: EmbeddedServer, delay: Duration = .milliseconds(25)
    ) async throws -> RequestProbe.Counts? {
        await server.delayReplies(by: delay)
        let results: [String: Any]
        do {
            results = try await java.run(
                ["mutex", "--connect", connect, "--clients", "1", "--seconds", "1", "--warmup", "0.3"], timeout: 120)
        } catch {
            await server.delayReplies(by: nil)
            throw error
        }
        await server.delayReplies(by: nil)
        let unit = Double(delay.components.seconds) * 1e6 + Double(delay.components.attoseconds) / 1e12
        guard let acquire = LockReport.number(results, ["acquire", "p50_us"]),
              let release = LockReport.number(results, ["release", "p50_us"]) else { return nil }
        return RequestProbe.Counts(acquire: (acquire / unit).rounded(), release: (release / unit).rounded())
    }
}
