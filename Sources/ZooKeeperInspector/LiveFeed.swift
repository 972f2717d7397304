import Synchronization
import ZooKeeperHTTP

/// The pages' server-sent event streams: every broadcast goes to each open one; the latest event of each
/// remembered type (recipes, ensemble) greets a page that connects, so it renders at once.
final class LiveFeed: Sendable {
    private struct State {
        var streams: [ObjectIdentifier: HTTPStream] = [:]
        var latest: [String: ServerSentEvent] = [:]
        var sequence = 0
    }

    private let state = Mutex(State())

    /// Adds a page's stream (removed when it closes) and sends it the remembered events.
    func subscribe(_ stream: HTTPStream) {
        let key = ObjectIdentifier(stream)
        let greeting = state.withLock { state -> [ServerSentEvent] in
            state.streams[key] = stream
            return state.latest.keys.sorted().compactMap { state.latest[$0] }
        }
        stream.write(ServerSentEvent(data: "hello", retryMilliseconds: 2000))
        for event in greeting { stream.write(event) }
        stream.onClose { [weak self] in
            _ = self?.state.withLock { $0.streams.removeValue(forKey: key) }
        }
    }

    var subscriberCount: Int { state.withLock { $0.streams.count } }

    /// Sends `data` as an event named `name` to every page; `remember` keeps it for pages connecting later.
    func broadcast(_ name: String, _ data: JSONValue, remember: Bool) {
        let (streams, event) = state.withLock { state -> ([HTTPStream], ServerSentEvent) in
            state.sequence += 1
            let event = ServerSentEvent(event: name, data: data.compact(), id: String(state.sequence))
            if remember { state.latest[name] = event }
            return (Array(state.streams.values), event)
        }
        for stream in streams { stream.write(event) }
    }

    /// A comment to every page: keeps idle connections from being cut by proxies.
    func ping() {
        let streams = state.withLock { Array($0.streams.values) }
        for stream in streams { stream.write(Array(ServerSentEvent.comment("ping").utf8)) }
    }

    /// Ends every stream (the inspector stops).
    func closeAll() {
        let streams = state.withLock { state -> [HTTPStream] in
            defer { state.streams = [:] }
            return Array(state.streams.values)
        }
        for stream in streams { stream.finish() }
    }
}
