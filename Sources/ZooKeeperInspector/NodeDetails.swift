import ZooKeeperProtocol
import Foundation
import ZooKeeperClient
import ZooKeeperHTTP

/// The JSON of one node (data three ways, every Stat field, ACL, children) and of a directory listing.
enum NodeDetails {
    static func node(_ client: ZooKeeperClient, _ path: ZNodePath) async throws -> JSONValue {
        let results = try await client.pipeline([.getData(path), .getChildren(path)])
        guard case let .success(.data(data, stat)) = results[0] else {
            if case let .failure(error) = results[0] { throw error }
            throw ZooKeeperError(.noNode, path: path.string)
        }
        var children: [String] = []
        if case let .success(.children(names)) = results[1] { children = names.sorted() }
        let acl = (try? await client.getACL(path).acl) ?? []
        var object = JSONObject()
        object.set("path", path.string)
        object.set("data", dataJSON(data))
        object.set("stat", statJSON(stat))
        object.set("acl", .array(acl.map(aclJSON)))
        object.set("children", .array(children.map(JSONValue.string)))
        return object.value
    }

    /// The children of `path` with what the tree shows of each (pipelined reads).
    static func children(_ client: ZooKeeperClient, _ path: ZNodePath) async throws -> JSONValue {
        let names = try await client.getChildren(path).sorted()
        let paths = names.compactMap { try? path.appending($0) }
        let results = try await client.pipeline(paths.map { PipelinedOperation.exists($0) })
        var rows: [JSONValue] = []
        for (child, result) in zip(paths, results) {
            guard case let .success(.stat(stat?)) = result else { continue }
            var row = JSONObject()
            row.set("name", String(child.string.split(separator: "/").last ?? ""))
            row.set("path", child.string)
            row.set("numChildren", Int64(stat.numChildren))
            row.set("dataLength", Int64(stat.dataLength))
            row.set("ephemeral", stat.ephemeralOwner > 0)
            rows.append(row.value)
        }
        var object = JSONObject()
        object.set("path", path.string)
        object.set("children", .array(rows))
        return object.value
    }

    static func dataJSON(_ data: [UInt8]) -> JSONValue {
        var object = JSONObject()
        object.set("length", data.count)
        object.set("text", DataRendering.printableText(data))
        object.set("json", DataRendering.json(data).map { JSONValue.string($0.prettyPrinted()) } ?? .null)
        object.set("hex", DataRendering.hexDump(data))
        return object.value
    }

    static func statJSON(_ stat: Stat) -> JSONValue {
        var object = JSONObject()
        object.set("czxid", DataRendering.hex(stat.czxid))
        object.set("mzxid", DataRendering.hex(stat.mzxid))
        object.set("pzxid", DataRendering.hex(stat.pzxid))
        object.set("ctime", stat.ctime)
        object.set("ctimeText", timeText(stat.ctime))
        object.set("mtime", stat.mtime)
        object.set("mtimeText", timeText(stat.mtime))
        object.set("version", Int64(stat.version))
        object.set("cversion", Int64(stat.cversion))
        object.set("aversion", Int64(stat.aversion))
        object.set("ephemeralOwner", DataRendering.hex(stat.ephemeralOwner))
        object.set("dataLength", Int64(stat.dataLength))
        object.set("numChildren", Int64(stat.numChildren))
        return object.value
    }

    static func aclJSON(_ acl: ACL) -> JSONValue {
        var object = JSONObject()
        object.set("scheme", acl.id.scheme)
        object.set("id", acl.id.id)
        let letters: [(Permissions, String)] = [(.create, "c"), (.delete, "d"), (.read, "r"), (.write, "w"), (.admin, "a")]
        object.set("perms", letters.filter { acl.perms.contains($0.0) }.map(\.1).joined())
        return object.value
    }

    /// ISO 8601 in UTC with milliseconds.
    static func timeText(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
