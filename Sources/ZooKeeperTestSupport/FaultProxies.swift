import Foundation

/// Several ``FaultProxy``s, one per server of an ensemble, controlled together: a client given
/// ``connectString`` reaches every server only through a proxy, so ``stall(_:)`` partitions it
/// from the whole ensemble.
public final class FaultProxies: Sendable {
    /// One proxy per upstream, in the order given.
    public let proxies: [FaultProxy]

    /// Starts one proxy per upstream (`"host:port"`, e.g. `"127.0.0.1:2181"`).
    public init(upstreams: [String]) throws {
        var started: [FaultProxy] = []
        do {
            for upstream in upstreams { started.append(try FaultProxy.start(upstream: upstream)) }
        } catch {
            started.forEach { $0.stop() }
            throw error
        }
        proxies = started
    }

    /// Starts one proxy per server of `connectString` (`"h:p,h:p"`, no chroot).
    public convenience init(connectString: String) throws {
        let upstreams = connectString.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !upstreams.isEmpty, !upstreams.contains(where: { $0.contains("/") }) else {
            throw TestSupportError("expected \"host:port,host:port\" without a chroot, got \(connectString)")
        }
        try self.init(upstreams: upstreams)
    }

    /// The proxies' addresses joined by `","`: a connection string for the client.
    public var connectString: String { proxies.map(\.address).joined(separator: ",") }

    /// ``FaultProxy/stall(_:)`` on every proxy.
    public func stall(_ direction: FaultProxy.Direction = .both) { proxies.forEach { $0.stall(direction) } }

    /// ``FaultProxy/heal()`` on every proxy.
    public func heal() { proxies.forEach { $0.heal() } }

    /// ``FaultProxy/resetAll()`` on every proxy.
    public func resetAll() { proxies.forEach { $0.resetAll() } }

    /// ``FaultProxy/stop()`` on every proxy (idempotent).
    public func stop() { proxies.forEach { $0.stop() } }
}
