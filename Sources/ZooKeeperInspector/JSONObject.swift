import ZooKeeperHTTP

/// Builds a ``JSONValue`` object field by field (small statements keep the type checker fast and the
/// field order as written).
struct JSONObject {
    private var fields: [(key: String, value: JSONValue)] = []

    mutating func set(_ key: String, _ value: JSONValue) { fields.append((key, value)) }
    mutating func set(_ key: String, _ value: String) { fields.append((key, .string(value))) }
    mutating func set(_ key: String, _ value: Int64) { fields.append((key, .int(value))) }
    mutating func set(_ key: String, _ value: Int) { fields.append((key, .int(Int64(value)))) }
    mutating func set(_ key: String, _ value: Bool) { fields.append((key, .bool(value))) }
    mutating func set(_ key: String, _ value: String?) { fields.append((key, value.map(JSONValue.string) ?? .null)) }

    var value: JSONValue { .object(fields) }
}
