import ZooKeeperProtocol
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// zkCli's `StatPrinter`: the eleven `name = value` lines.
public enum StatPrinter {
    public static func lines(_ stat: Stat) -> [String] {
        [
            "cZxid = \(hex(stat.czxid))",
            "ctime = \(javaDate(milliseconds: stat.ctime))",
            "mZxid = \(hex(stat.mzxid))",
            "mtime = \(javaDate(milliseconds: stat.mtime))",
            "pZxid = \(hex(stat.pzxid))",
            "cversion = \(stat.cversion)",
            "dataVersion = \(stat.version)",
            "aclVersion = \(stat.aversion)",
            "ephemeralOwner = \(hex(stat.ephemeralOwner))",
            "dataLength = \(stat.dataLength)",
            "numChildren = \(stat.numChildren)",
        ]
    }

    /// Java's `Long.toHexString` with `0x`: two's complement for negative values.
    public static func hex(_ value: Int64) -> String { "0x" + String(UInt64(bitPattern: value), radix: 16) }

    /// Java's `Date.toString()`: `EEE MMM dd HH:mm:ss zzz yyyy`, in the local time zone.
    public static func javaDate(milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var zone = parts.tm_zone.map { String(cString: $0) } ?? "UTC"
        if zone == "GMT" || zone.isEmpty { zone = "UTC" }
        return "\(days[Int(parts.tm_wday)]) \(months[Int(parts.tm_mon)]) \(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) \(zone) \(parts.tm_year + 1900)"
    }

    /// The stat as a JSON object (for `--json`).
    public static func json(_ stat: Stat) -> String {
        "{\"cZxid\":\(stat.czxid),\"ctime\":\(stat.ctime),\"mZxid\":\(stat.mzxid),\"mtime\":\(stat.mtime),"
            + "\"pZxid\":\(stat.pzxid),\"cversion\":\(stat.cversion),\"dataVersion\":\(stat.version),"
            + "\"aclVersion\":\(stat.aversion),\"ephemeralOwner\":\(stat.ephemeralOwner),"
            + "\"dataLength\":\(stat.dataLength),\"numChildren\":\(stat.numChildren)}"
    }
}

/// Minimal JSON string encoding.
public func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
