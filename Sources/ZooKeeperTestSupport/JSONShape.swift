import ZooKeeperHTTP

/// How two JSON answers differ in shape: field names and value kinds, not values (ids, times and sizes differ
/// between servers). What the admin server's differential tests compare against Apache's Jetty answers.
public enum JSONShape {
    /// The differences between Apache's answer and ours, one line each (empty when the shapes agree).
    /// - Parameters:
    ///   - subset: we may lack fields Apache has (e.g. `monitor`: Apache's metrics provider adds hundreds).
    ///   - dataKeyed: names of objects keyed by data (session ids, paths, server ids): their entry counts and
    ///     value shapes compare, not their keys.
    ///   - timeKeyed: data-keyed objects whose entry counts depend on timing (e.g. session expiry buckets):
    ///     only the shapes of their entries compare.
    public static func differences(
        _ theirs: JSONValue, _ ours: JSONValue, at path: String, subset: Bool = false, dataKeyed: Set<String> = [],
        timeKeyed: Set<String> = []
    ) -> [String] {
        switch (theirs, ours) {
        case let (.object(apacheFields), .object(ourFields)):
            let key = path.split(separator: ".").last.map(String.init) ?? path
            if timeKeyed.contains(key) {
                // Only entries that hold something: Apache keeps emptied expiry buckets for a while.
                let theirs = apacheFields.filter { !$0.value.isEmptyCollection }
                let mine = ourFields.filter { !$0.value.isEmptyCollection }
                guard theirs.isEmpty == mine.isEmpty else {
                    return ["\(path): Apache has \(theirs.count) non-empty entries, we have \(mine.count)"]
                }
                return zip(theirs, mine).flatMap {
                    Self.differences($0.value, $1.value, at: path + ".<entry>", dataKeyed: dataKeyed, timeKeyed: timeKeyed)
                }
            }
            if dataKeyed.contains(key) {
                guard apacheFields.count == ourFields.count else {
                    return ["\(path): Apache has \(apacheFields.count) entries, we have \(ourFields.count)"]
                }
                return zip(apacheFields, ourFields).flatMap {
                    Self.differences($0.value, $1.value, at: path + ".<entry>", dataKeyed: dataKeyed, timeKeyed: timeKeyed)
                }
            }
            var differences: [String] = []
            let apacheKeys = Set(apacheFields.map(\.key))
            let ourKeys = Set(ourFields.map(\.key))
            for missing in apacheKeys.subtracting(ourKeys).sorted() where !subset {
                differences.append("\(path): we lack \(missing)")
            }
            for extra in ourKeys.subtracting(apacheKeys).sorted() {
                differences.append("\(path): Apache has no \(extra)")
            }
            for (name, value) in ourFields {
                guard let theirValue = theirs[name] else { continue }
                differences += Self.differences(theirValue, value, at: path + "." + name, dataKeyed: dataKeyed, timeKeyed: timeKeyed)
            }
            return differences
        case let (.array(apacheItems), .array(ourItems)):
            guard let first = apacheItems.first, let mine = ourItems.first else {
                return apacheItems.count == ourItems.count ? [] : ["\(path): Apache has \(apacheItems.count) items, we have \(ourItems.count)"]
            }
            return Self.differences(first, mine, at: path + "[0]", dataKeyed: dataKeyed, timeKeyed: timeKeyed)
        default:
            return theirs.kind == ours.kind ? [] : ["\(path): Apache's is \(theirs.kind) (\(theirs.compact().prefix(60))), ours \(ours.kind) (\(ours.compact().prefix(60)))"]
        }
    }
}

extension JSONValue {
    /// An empty array or object.
    fileprivate var isEmptyCollection: Bool {
        switch self {
        case let .array(items): items.isEmpty
        case let .object(fields): fields.isEmpty
        default: false
        }
    }
}
