/// One server-sent event (`text/event-stream`, as the browser's `EventSource` reads it).
public struct ServerSentEvent: Sendable, Hashable {
    /// The event's type (`event:`); nil is the default `message`.
    public var event: String?
    /// The payload; each line becomes a `data:` line.
    public var data: String
    /// The last-event id (`id:`) a reconnecting browser sends back in `Last-Event-ID`.
    public var id: String?
    /// How long a browser waits before reconnecting (`retry:`).
    public var retryMilliseconds: Int?

    public init(event: String? = nil, data: String, id: String? = nil, retryMilliseconds: Int? = nil) {
        self.event = event
        self.data = data
        self.id = id
        self.retryMilliseconds = retryMilliseconds
    }

    /// A comment line: ignored by browsers, it keeps idle connections (and proxies) alive.
    public static func comment(_ text: String) -> String { ": " + Self.singleLine(text) + "\n\n" }

    /// The event on the wire, ending with its blank line. Field values cannot break the framing: line
    /// breaks in `event` and `id` are removed, and `data` is split into one `data:` line per line.
    public var serialized: String {
        var text = ""
        if let event { text += "event: " + Self.singleLine(event) + "\n" }
        if let id { text += "id: " + Self.singleLine(id) + "\n" }
        if let retryMilliseconds { text += "retry: \(retryMilliseconds)\n" }
        let lines = data.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        for line in lines { text += "data: " + line + "\n" }
        return text + "\n"
    }

    private static func singleLine(_ text: String) -> String {
        String(text.filter { $0 != "\n" && $0 != "\r" && $0 != "\r\n" })
    }
}
