/// A usage mistake: printed with the usage text, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Hand-rolled `--key value` / `--key=value` / `--flag` parsing. Every option a mode reads is
/// marked used; ``finish()`` rejects the rest, so a typo fails before any work is done.
struct Arguments {
    /// Options that take no value.
    static let flags: Set<String> = ["json", "help", "start-apache", "embedded", "quick", "no-java", "no-restart"]

    private var values: [String: String] = [:]
    private var used: Set<String> = []
    let mode: String?

    init(_ argv: [String]) throws(UsageError) {
        var rest = argv[...]
        if let first = rest.first, !first.hasPrefix("-") {
            mode = first
            rest = rest.dropFirst()
        } else {
            mode = nil
        }
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw UsageError("expected --option, got \"\(argument)\"")
            }
            let body = argument.dropFirst(2)
            if let equals = body.firstIndex(of: "=") {
                values[String(body[..<equals])] = String(body[body.index(after: equals)...])
            } else if Self.flags.contains(String(body)) {
                values[String(body)] = "true"
            } else if let value = rest.popFirst() {
                values[String(body)] = value
            } else {
                throw UsageError("missing value for \(argument)")
            }
        }
    }

    /// Supplies a value the user did not give (e.g. `--connect` for a server zk-bench started itself).
    mutating func provide(_ key: String, _ value: String) {
        if values[key] == nil { values[key] = value }
    }

    mutating func flag(_ key: String) -> Bool {
        used.insert(key)
        return values[key] == "true"
    }

    mutating func string(_ key: String) -> String? {
        used.insert(key)
        return values[key]
    }

    mutating func string(_ key: String, default fallback: String) -> String {
        string(key) ?? fallback
    }

    mutating func required(_ key: String) throws(UsageError) -> String {
        guard let value = string(key), !value.isEmpty else { throw UsageError("--\(key) is required") }
        return value
    }

    mutating func integer(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let text = string(key) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("--\(key) must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return value
    }

    mutating func optionalInteger(_ key: String, range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard string(key) != nil else { return nil }
        return try integer(key, default: 0, range: range)
    }

    mutating func seconds(_ key: String, default fallback: Double, range: ClosedRange<Double>) throws(UsageError) -> Double {
        guard let text = string(key) else { return fallback }
        guard let value = Double(text), range.contains(value) else {
            throw UsageError("--\(key) must be a number of seconds in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return value
    }

    /// A comma-separated list of positive integers (`--outstanding 1,16,256`).
    mutating func integerList(_ key: String, default fallback: [Int], range: ClosedRange<Int>) throws(UsageError) -> [Int] {
        guard let text = string(key) else { return fallback }
        var result: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let value = Int(item), range.contains(value) else {
                throw UsageError("--\(key) takes integers in \(range.lowerBound)...\(range.upperBound) separated by commas, got \"\(text)\"")
            }
            result.append(value)
        }
        return result
    }

    /// A comma-separated list of names from `allowed`, in the order given, without repeats.
    mutating func choiceList(_ key: String, default fallback: [String], allowed: [String]) throws(UsageError) -> [String] {
        guard let text = string(key) else { return fallback }
        var result: [String] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard allowed.contains(item) else {
                throw UsageError("--\(key): \"\(item)\" is not one of \(allowed.joined(separator: ", "))")
            }
            if !result.contains(item) { result.append(item) }
        }
        return result
    }

    /// Fails on any option the mode did not read.
    func finish() throws(UsageError) {
        let unknown = values.keys.filter { !used.contains($0) }.sorted()
        if let first = unknown.first { throw UsageError("unknown option --\(first)") }
    }
}
