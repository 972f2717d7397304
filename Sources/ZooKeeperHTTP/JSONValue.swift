/// A JSON value whose objects keep their key order (answers read like Apache's, field by field).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number without fraction or exponent (Java's `int`/`long`).
    case int(Int64)
    /// A number with a fraction (Java's `double`, always printed with one: `0.0`).
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// The value under `key` of an object (the first, if repeated).
    public subscript(key: String) -> JSONValue? {
        guard case let .object(entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// An object's keys in order; empty for other values.
    public var keys: [String] {
        guard case let .object(entries) = self else { return [] }
        return entries.map(\.key)
    }

    /// The kind's name: `null`, `bool`, `int`, `double`, `string`, `array`, `object`.
    public var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "double"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(compact())
    }
}

extension JSONValue {
    /// Jackson's `DefaultPrettyPrinter` layout, which Apache's admin server answers in:
    /// `"key" : value`, two-space indents, arrays on one line (`[ 1, 2 ]`, `[ ]`), `{ }` when empty.
    public func prettyPrinted() -> String {
        var text = ""
        write(to: &text, indent: 0, pretty: true)
        return text
    }

    /// No whitespace at all.
    public func compact() -> String {
        var text = ""
        write(to: &text, indent: 0, pretty: false)
        return text
    }

    private func write(to text: inout String, indent: Int, pretty: Bool) {
        switch self {
        case .null: text += "null"
        case let .bool(value): text += value ? "true" : "false"
        case let .int(value): text += String(value)
        case let .double(value): text += Self.javaDouble(value)
        case let .string(value): Self.quote(value, into: &text)
        case let .array(values):
            if values.isEmpty { text += pretty ? "[ ]" : "[]"; return }
            text += pretty ? "[ " : "["
            for (index, value) in values.enumerated() {
                if index > 0 { text += pretty ? ", " : "," }
                value.write(to: &text, indent: indent, pretty: pretty)
            }
            text += pretty ? " ]" : "]"
        case let .object(entries):
            if entries.isEmpty { text += pretty ? "{ }" : "{}"; return }
            text += pretty ? "{\n" : "{"
            let padding = String(repeating: "  ", count: indent + 1)
            for (index, entry) in entries.enumerated() {
                if index > 0 { text += pretty ? ",\n" : "," }
                if pretty { text += padding }
                Self.quote(entry.key, into: &text)
                text += pretty ? " : " : ":"
                entry.value.write(to: &text, indent: indent + 1, pretty: pretty)
            }
            if pretty { text += "\n" + String(repeating: "  ", count: indent) }
            text += "}"
        }
    }

    /// Java's `Double.toString` for ordinary values: integral ones keep `.0`; NaN and infinities (not JSON) are `null`.
    static func javaDouble(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) + ".0" }
        return "\(value)"
    }

    private static func quote(_ string: String, into text: inout String) {
        text += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}
