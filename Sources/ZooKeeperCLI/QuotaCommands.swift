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

    /// SetQuotaCommand: every option given is set; the node must exist and no ancestor or descendant may
    /// have a quota; a limit below the current usage is set with a warning (stdout).
    func setQuota(_ args: ParsedArguments) async throws -> CommandOutcome {
        let given = ["n", "b", "N", "B"].filter { args.values[$0] != nil }
        guard !given.isEmpty else {
            throw CLIError("org.apache.commons.cli.MissingOptionException: Missing required option: "
                           + "[-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]")
        }
        guard let text = args.arguments.first else { throw UsageError() }
        if text.hasPrefix(Self.quotaRoot) {
            throw CLIError("cannot set a quota under the path: \(Self.quotaRoot)")
        }
        var requested = QuotaLimits()
        for option in given {
            // Counts are Java ints, byte sizes longs.
            let value = option == "n" || option == "N" ? Int32(args.values[option]!).map(Int64.init) : Int64(args.values[option]!)
            guard let value else { throw CLIError("NumberFormatException happens when parsing the option value") }
            switch option {
            case "n", "N":
                guard value > 0 else { throw CLIError("the num quota must be greater than zero") }
                if option == "n" { requested.count = value } else { requested.countHardLimit = value }
            default:
                guard value >= 0 else { throw CLIError("the bytes quota must be greater than or equal to zero") }
                if option == "b" { requested.bytes = value } else { requested.byteHardLimit = value }
            }
        }
        let path = try path(text)
        let client = try connected()
        guard try await client.exists(path) != nil else { throw CLIError("\(path) does not exist.") }
        let quotaPath = try ZNodePath(Self.quotaRoot + path.string)
        try await checkNoOtherQuota(client, path, quotaPath)
        let limitsPath = try quotaPath.appending("zookeeper_limits")
        let statsPath = try quotaPath.appending("zookeeper_stats")
        if let (data, _) = try? await client.getData(limitsPath) {
            var limits = QuotaLimits(parsing: String(decoding: data, as: UTF8.self))
            if requested.count > -1 { limits.count = requested.count }
            if requested.bytes > -1 { limits.bytes = requested.bytes }
            if requested.countHardLimit > -1 { limits.countHardLimit = requested.countHardLimit }
            if requested.byteHardLimit > -1 { limits.byteHardLimit = requested.byteHardLimit }
            try await warnIfBelowUsage(limits, client.getData(statsPath).data)
            _ = try await client.setData(limitsPath, data: Array(limits.text.utf8))
            return .ok
        }
        for prefix in quotaPath.prefixes where prefix.string.count > Self.quotaRoot.count {
            do { try await client.create(prefix) } catch let error as ZooKeeperError where error.code == .nodeExists {}
        }
        try await client.create(limitsPath, data: Array(requested.text.utf8))
        try await client.create(statsPath, data: Array("count=0,bytes=0".utf8))
        // The server fills the stats node in with the subtree's usage as it is created.
        try await warnIfBelowUsage(requested, client.getData(statsPath).data)
        return .ok
    }

    /// `checkIfChildQuota` / `checkIfParentQuota`: quotas may not nest.
    private func checkNoOtherQuota(_ client: ZooKeeperClient, _ path: ZNodePath, _ quotaPath: ZNodePath) async throws {
        var queue = [quotaPath]
        var index = 0
        while index < queue.count {
            let node = queue[index]
            index += 1
            guard let children = try? await client.getChildren(node) else { continue }
            if node != quotaPath && children.contains("zookeeper_limits") {
                throw CLIError("\(path) has a child \(node.string.dropFirst(Self.quotaRoot.count)) which has a quota")
            }
            for child in children.sorted() { queue.append(try node.appending(child)) }
        }
        for ancestor in quotaPath.prefixes where ancestor.string.count > Self.quotaRoot.count && ancestor != quotaPath {
            guard let children = try? await client.getChildren(ancestor), !children.isEmpty else { return }
            if children.contains("zookeeper_limits") {
                throw CLIError("\(path) has a parent \(ancestor.string.dropFirst(Self.quotaRoot.count)) which has a quota")
            }
        }
    }

    /// `SetQuotaCommand.checkQuota`: the warnings go to stdout.
    private func warnIfBelowUsage(_ limits: QuotaLimits, _ statsData: [UInt8]) {
        let usage = QuotaLimits(parsing: String(decoding: statsData, as: UTF8.self))
        if (limits.count > -1 && limits.count < usage.count) || (limits.countHardLimit > -1 && limits.countHardLimit < usage.count) {
            print("[Warning]: the count quota you create is less than the existing count:\(usage.count)")
        }
        if (limits.bytes > -1 && limits.bytes < usage.bytes) || (limits.byteHardLimit > -1 && limits.byteHardLimit < usage.bytes) {
            print("[Warning]: the bytes quota you create is less than the existing bytes:\(usage.bytes)")
        }
    }

    func listQuota(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        let path = try path(text)
        let client = try connected()
        let quotaPath = Self.quotaRoot + path.string
        printError("absolute path is \(quotaPath)/zookeeper_limits")  // ListQuotaCommand: on stderr
        do {
            let limits = try await client.getData(try ZNodePath(quotaPath + "/zookeeper_limits")).data
            print("Output quota for \(path) \(String(decoding: limits, as: UTF8.self))")
            let stats = try await client.getData(try ZNodePath(quotaPath + "/zookeeper_stats")).data
            print("Output stat for \(path) \(String(decoding: stats, as: UTF8.self))")
        } catch let error as ZooKeeperError where error.code == .noNode {
            printError("quota for \(path) does not exist.")
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
            print("Quota does not exist for \(path)")  // DelQuotaCommand: stdout, and not a failure
            return .ok
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
