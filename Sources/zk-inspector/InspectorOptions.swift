import ZooKeeperClient

/// `zk-inspector --connect host:port[,…] [--listen host:port] [--allow-writes]`.
struct InspectorOptions {
    var connect = ""
    var host = "127.0.0.1"
    var port = 8080
    var allowWrites = false
    var help = false

    static let usage = """
    usage: zk-inspector --connect host:port[,host:port…][/chroot] [--listen host:port] [--allow-writes]

    A web UI for a ZooKeeper ensemble (Apache's or Shepherd's): the tree with live updates, the recipes
    recognised from their znodes (locks, leader election, queues, barriers, service discovery, groups,
    counters) and the members' state. Open the printed URL in a browser.

      --connect H:P,…     the ensemble (the ensemble panel asks each member with srvr and mntr; Apache
                          servers need them in 4lw.commands.whitelist)
      --listen H:P        where to serve the page (default 127.0.0.1:8080; port 0 picks a free one)
      --allow-writes      let the page create, set and delete nodes (each after a confirmation);
                          without it the inspector is read-only and refuses writes with 403
    """

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    init(_ arguments: [String]) throws(UsageError) {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            var key = argument, inline: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                key = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            }
            func value() throws(UsageError) -> String {
                if let inline { return inline }
                guard let next = rest.popFirst() else { throw UsageError(description: "missing value for \(key)") }
                return next
            }
            switch key {
            case "--help", "-h": help = true
            case "--allow-writes": allowWrites = true
            case "--connect": connect = try value()
            case "--listen":
                let text = try value()
                guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
                    throw UsageError(description: "--listen takes host:port, got \"\(text)\"")
                }
                host = String(text[..<colon]).trimmingCharacters(in: ["[", "]"])
                self.port = port
            default:
                throw UsageError(description: "unknown option \(argument)")
            }
        }
        if !help && connect.isEmpty { throw UsageError(description: "--connect is required") }
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
