/// Splitting a zkCli line into words, and parsing a command's options the way zkCli (commons-cli) does.

/// Splits a line as zkCli does: words separated by spaces; `"…"` and `'…'` group words and lose their quotes.
public func tokenizeCommandLine(_ line: String) -> [String] {
    var words: [String] = []
    var current = ""
    var inWord = false
    var quote: Character?
    for character in line {
        if let open = quote {
            if character == open { quote = nil } else { current.append(character) }
            continue
        }
        if character == "\"" || character == "'", !inWord || current.isEmpty {
            quote = character
            inWord = true
            continue
        }
        if character == " " || character == "\t" {
            if inWord { words.append(current); current = ""; inWord = false }
            continue
        }
        current.append(character)
        inWord = true
    }
    if inWord { words.append(current) }
    return words
}

/// A command's words after option parsing: flags seen, option values, and the remaining arguments.
public struct ParsedArguments: Sendable, Equatable {
    public var flags: Set<String> = []
    public var values: [String: String] = [:]
    public var arguments: [String] = []

    public func has(_ flag: String) -> Bool { flags.contains(flag) || values[flag] != nil }
}

/// Why option parsing failed.
public enum OptionError: Error, Equatable {
    case unknownOption(String)
    case missingValue(String)
}

/// Parses options anywhere in `words` (commons-cli's DefaultParser): `-x` flags from `flags`, `-x value`
/// options from `valued`; a lone `-` or a negative number where a value is expected is a value.
public func parseOptions(_ words: [String], flags: Set<String>, valued: Set<String>) throws(OptionError) -> ParsedArguments {
    var result = ParsedArguments()
    var index = 0
    while index < words.count {
        let word = words[index]
        index += 1
        if word.count >= 2, word.hasPrefix("-"), !word.hasPrefix("--") || word == "--json" {
            let name = String(word.dropFirst())
            if name == "-json" { result.flags.insert("json"); continue }
            if flags.contains(name) { result.flags.insert(name); continue }
            if valued.contains(name) {
                guard index < words.count else { throw .missingValue(name) }
                result.values[name] = words[index]
                index += 1
                continue
            }
            if Int(word) != nil { result.arguments.append(word); continue }
            throw .unknownOption(word)
        }
        result.arguments.append(word)
    }
    return result
}

/// zkCli's path checks, with its sentences (`PathUtils.validatePath`). Returns an error sentence or nil.
public func zkCliPathError(_ path: String, sequential: Bool = false) -> String? {
    if path.isEmpty { return "Path length must be > 0" }
    if !path.hasPrefix("/") { return "Path must start with / character" }
    if path.count == 1 { return nil }
    if path.hasSuffix("/") && !sequential { return "Path must not end with / character" }
    let chars = Array(path.unicodeScalars)
    for i in 1..<chars.count {
        let c = chars[i]
        let last = chars[i - 1]
        var reason: String?
        if c.value == 0 { reason = "null character not allowed @\(i)" }
        else if c == "/" && last == "/" { reason = "empty node name specified @\(i)" }
        else if c == "." && last == "." {
            if chars[i - 2] == "/" && (i + 1 == chars.count || chars[i + 1] == "/") { reason = "relative paths not allowed @\(i)" }
        } else if c == "." {
            if last == "/" && (i + 1 == chars.count || chars[i + 1] == "/") { reason = "relative paths not allowed @\(i)" }
        } else if (c.value > 0 && c.value <= 0x1f) || (c.value >= 0x7f && c.value <= 0x9f)
                    || (c.value >= 0xd800 && c.value <= 0xf8ff) || (c.value >= 0xfff0 && c.value <= 0xffff) || c.value > 0xffff {
            reason = "invalid character @\(i)"
        }
        if let reason { return "Invalid path string \"\(path)\" caused by \(reason)" }
    }
    return nil
}
