import ZooKeeperClient
import ZooKeeperProtocol

// setquota, listquota, delquota: the `/zookeeper/quota/<path>/zookeeper_limits|zookeeper_stats` nodes.

/// `StatsTrack`'s text: `count=5,bytes=-1=;byteHardLimit=1000;countHardLimit=-1` (limits) or `count=1,bytes=1`.
public struct QuotaLimits: Equatable, Sendable {
    public var count: Int64 = -1
    public var bytes: Int64 = -1
    public var countHardLimit: Int64 = -1
    public var byteHardLimit: Int64 = -1

    public init() {}

    public init(parsing text: String) {
        for part in text.split(whereSeparator: { $0 == "," || $0 == ";" }) {
            let pieces = part.split(separator: "=", omittingEmptySubsequences: true)
            guard pieces.count >= 2, let value = Int64(pieces[1]) else { continue }
            switch pieces[0] {
            case "count": count = value
            case "bytes": bytes = value
            case "countHardLimit": countHardLimit = value
            case "byteHardLimit": byteHardLimit = value
            default: break
            }
        }
    }

    public var text: String {
        "count=\(count),bytes=\(bytes)=;byteHardLimit=\(byteHardLimit);countHardLimit=\(countHardLimit)"
    }
}

extension Shell {
    static let quotaRoot = "/zookeeper/quota"

    static let quotaCommands: [String: CommandSpec] = [
        "setquota": CommandSpec(usage: "setquota -n|-b|-N|-B val path", valued: ["n", "b", "N", "B"]) {
            try await $0.setQuota($1)
        },
        "listquota": CommandSpec(usage: "listquota path") { try await $0.listQuota($1) },
        "delquota": CommandSpec(usage: "delquota [-n|-b|-N|-B] path", flags: ["n", "b", "N", "B"]) {
            try await $0.delQuota($1)
        },
    ]

    func setQuota(_ args: ParsedArguments) async throws -> CommandOutcome {
        let given = ["n", "b", "N", "B"].filter { args.values[$0] != nil }
        guard let option = given.first else {
            throw CLIError("org.apache.commons.cli.MissingOptionException: Missing required option: "
                           + "[-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]")
        }
        guard let text = args.arguments.first else { throw UsageError() }
        guard let value = Int64(args.values[option]!) else {
            throw CLIError("NumberFormatException happens when parsing the option value")
        }
        let path = try path(text)
        if path.string.hasPrefix(Self.quotaRoot) {
            throw CLIError("cannot set a quota under the path: \(Self.quotaRoot)")
        }
        let client = try connected()
        guard try await client.exists(path) != nil else { throw CLIError("Node does not exist: \(path)") }
        let quotaPath = try ZNodePath(Self.quotaRoot + path.string)
        let limitsPath = try quotaPath.appending("zookeeper_limits")
        var limits = QuotaLimits()
        var exists = false
        if let (data, _) = try? await client.getData(limitsPath) {
            limits = QuotaLimits(parsing: String(decoding: data, as: UTF8.self))
            exists = true
        }
        switch option {
        case "n": limits.count = value
        case "b": limits.bytes = value
        case "N": limits.countHardLimit = value
        default: limits.byteHardLimit = value
        }
        if exists {
            _ = try await client.setData(limitsPath, data: Array(limits.text.utf8))
            return .ok
        }
        for prefix in quotaPath.prefixes where prefix.string.count > Self.quotaRoot.count {
            do { try await client.create(prefix) } catch let error as ZooKeeperError where error.code == .nodeExists {}
        }
        try await client.create(limitsPath, data: Array(limits.text.utf8))
        try await client.create(try quotaPath.appending("zookeeper_stats"), data: Array("count=0,bytes=0".utf8))
        return .ok
    }

    func listQuota(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        let path = try path(text)
        let client = try connected()
        let quotaPath = Self.quotaRoot + path.string
        print("absolute path is \(quotaPath)/zookeeper_limits")
        do {
            let limits = try await client.getData(try ZNodePath(quotaPath + "/zookeeper_limits")).data
            print("Output quota for \(path) \(String(decoding: limits, as: UTF8.self))")
            let stats = try await client.getData(try ZNodePath(quotaPath + "/zookeeper_stats")).data
            print("Output stat for \(path) \(String(decoding: stats, as: UTF8.self))")
        } catch let error as ZooKeeperError where error.code == .noNode {
            print("quota for \(path) does not exist.")
        }
        return .ok
    }

    func delQuota(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        let path = try path(text)
        let client = try connected()
        let quotaPath = try ZNodePath(Self.quotaRoot + path.string)
        let limitsPath = try quotaPath.appending("zookeeper_limits")
        guard let (data, _) = try? await client.getData(limitsPath) else {
            throw CLIError("Quota does not exist for \(path)")
        }
        let flags = ["n", "b", "N", "B"].filter { args.flags.contains($0) }
        if flags.isEmpty {
            for child in try await client.getChildren(quotaPath) where child.hasPrefix("zookeeper_") {
                try await client.delete(try quotaPath.appending(child))
            }
            if try await client.getChildren(quotaPath).isEmpty { try await client.delete(quotaPath) }
            return .ok
        }
        var limits = QuotaLimits(parsing: String(decoding: data, as: UTF8.self))
        for flag in flags {
            switch flag {
            case "n": limits.count = -1
            case "b": limits.bytes = -1
            case "N": limits.countHardLimit = -1
            default: limits.byteHardLimit = -1
            }
        }
        _ = try await client.setData(limitsPath, data: Array(limits.text.utf8))
        return .ok
    }
}
