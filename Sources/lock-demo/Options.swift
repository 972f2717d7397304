/// A usage mistake: printed with the usage text, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A failure in the run itself (not a usage mistake).
struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// How waiters wait: the herd-free recipe, or the naive anti-pattern for comparison.
enum LockMode: String, Sendable {
    /// ``DistributedMutex``: each waiter watches only its predecessor (one notification per hand-over).
    case recipe
    /// Anti-pattern: every waiter watches the lock directory's children (a storm per hand-over).
    case herd
    /// No lock at all: what the seed notes warn about (order numbers duplicated across JVMs). The
    /// report must FAIL; this proves the checks can see a broken lock.
    case none
}

/// The parent's options (`lock-demo [--connect …] [--workers N] …`).
struct DemoOptions: Sendable {
    var connect: String?
    var workers = 8
    var duration = 10.0
    var mode = LockMode.recipe
    var killHolder = false
    /// Workers' session timeout: how long a dead holder keeps the lock.
    var sessionTimeout = 3.0
    /// `--inspect` / `--inspect-listen H:P`: serve the inspector on the demo's server while it runs.
    var inspect: (host: String, port: Int)?
    var help = false

    /// Hand-rolled `--key value` / `--key=value` / `--flag` parsing; unknown options are errors.
    init(_ argv: [String]) throws(UsageError) {
        var rest = argv[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw UsageError("expected --option, got \"\(argument)\"")
            }
            var key = String(argument.dropFirst(2))
            var inline: String?
            if let equals = key.firstIndex(of: "=") {
                inline = String(key[key.index(after: equals)...])
                key = String(key[..<equals])
            }
            func value() throws(UsageError) -> String {
                if let inline { return inline }
                guard let next = rest.popFirst() else { throw UsageError("missing value for --\(key)") }
                return next
            }
            switch key {
            case "help": help = true
            case "kill-holder": killHolder = true
            case "inspect": inspect = inspect ?? ("127.0.0.1", 8080)
            case "inspect-listen":
                let text = try value()
                guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                      (0...65535).contains(port), colon != text.startIndex else {
                    throw UsageError("--inspect-listen takes host:port, got \"\(text)\"")
                }
                inspect = (String(text[..<colon]), port)
            case "connect":
                let text = try value()
                guard !text.isEmpty, text.contains(":") else {
                    throw UsageError("--connect takes host:port[,host:port…], got \"\(text)\"")
                }
                connect = text
            case "workers": workers = try Self.integer(key, try value(), in: 2...64)
            case "duration": duration = try Self.seconds(key, try value(), in: 1...600)
            case "session-timeout": sessionTimeout = try Self.seconds(key, try value(), in: 1...60)
            case "mode":
                let text = try value()
                guard let parsed = LockMode(rawValue: text) else {
                    throw UsageError("--mode must be \"recipe\", \"herd\" or \"none\", got \"\(text)\"")
                }
                mode = parsed
            default:
                throw UsageError("unknown option --\(key)")
            }
        }
    }

    private static func integer(_ key: String, _ text: String, in range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("--\(key) must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return value
    }

    private static func seconds(_ key: String, _ text: String, in range: ClosedRange<Double>) throws(UsageError) -> Double {
        guard let value = Double(text), range.contains(value) else {
            throw UsageError("--\(key) must be seconds in \(Int(range.lowerBound))...\(Int(range.upperBound)), got \"\(text)\"")
        }
        return value
    }
}
