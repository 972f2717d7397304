import ZooKeeperClient
import ZooKeeperProtocol

// ls, create, get, set, stat, delete, deleteall/rmr, sync, getEphemerals, getAllChildrenNumber, tree.

extension Shell {
    static let nodeCommands: [String: CommandSpec] = [
        "ls": CommandSpec(usage: "ls [-s] [-w] [-R] path", flags: ["s", "w", "R", "json"]) { try await $0.ls($1) },
        "ls2": CommandSpec(usage: "ls2 path", flags: ["json"]) { shell, args in
            var args = args
            args.flags.insert("s")
            return try await shell.ls(args)
        },
        "create": CommandSpec(usage: "create [-s] [-e] [-c] [-t ttl] path [data] [acl]", flags: ["s", "e", "c"],
                              valued: ["t"]) { try await $0.create($1) },
        "get": CommandSpec(usage: "get [-s] [-w] path", flags: ["s", "w", "json"]) { try await $0.get($1) },
        "set": CommandSpec(usage: "set [-s] [-v version] path data", flags: ["s"], valued: ["v"]) { try await $0.set($1) },
        "stat": CommandSpec(usage: "stat [-w] path", flags: ["w", "json"]) { try await $0.stat($1) },
        "delete": CommandSpec(usage: "delete [-v version] path", valued: ["v"]) { try await $0.delete($1) },
        "deleteall": CommandSpec(usage: "deleteall path [-b batch size]", valued: ["b"]) { try await $0.deleteAll($1) },
        "rmr": CommandSpec(usage: "rmr path", valued: ["b"]) { try await $0.deleteAll($1) },
        "sync": CommandSpec(usage: "sync path") { try await $0.sync($1) },
        "getEphemerals": CommandSpec(usage: "getEphemerals path") { try await $0.getEphemerals($1) },
        "getAllChildrenNumber": CommandSpec(usage: "getAllChildrenNumber path") { try await $0.getAllChildrenNumber($1) },
        "tree": CommandSpec(usage: "tree [path]") { try await $0.tree($1) },
    ]

    func wantsJSON(_ args: ParsedArguments) -> Bool { jsonOutput || args.has("json") }

    func ls(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        let path = try path(text)
        let client = try connected()
        if args.has("R") {
            var queue = [path]
            var index = 0
            while index < queue.count {
                let node = queue[index]
                index += 1
                for child in try await client.getChildren(node).sorted() { queue.append(try node.appending(child)) }
            }
            // Like ZKUtil.listSubTreeBFS: the whole subtree is read before anything is printed.
            queue.forEach { print($0.string) }
            return .ok
        }
        let children: [String]
        let stat: Stat
        if args.has("w") {
            let result = try await client.getChildrenWatching(path)
            (children, stat) = (result.children, result.stat)
            watchOnce(result.watch, path: path.string, kind: .child)
        } else {
            (children, stat) = try await client.getChildrenWithStat(path)
        }
        let sorted = children.sorted()
        if wantsJSON(args) {
            var json = "{\"path\":\(jsonString(path.string)),\"children\":[\(sorted.map(jsonString).joined(separator: ","))]"
            if args.has("s") { json += ",\"stat\":\(StatPrinter.json(stat))" }
            print(json + "}")
            return .ok
        }
        print("[" + sorted.joined(separator: ", ") + "]")
        if args.has("s") { StatPrinter.lines(stat).forEach(print) }
        return .ok
    }

    func create(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        let sequential = args.has("s"), ephemeral = args.has("e"), container = args.has("c")
        var ttl: Duration?
        if let value = args.values["t"] {
            guard let ms = Int64(value) else { throw UsageError() }
            ttl = .milliseconds(ms)
        }
        if container && (sequential || ephemeral) {
            throw CLIError("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.")
        }
        if ttl != nil && ephemeral { throw CLIError("TTLs cannot be used with Ephemeral znodes") }
        if ttl != nil && container { throw CLIError("TTLs cannot be used with Container znodes") }
        let path = try path(text, sequential: sequential)
        let data = args.arguments.count > 1 ? Array(args.arguments[1].utf8) : []
        var acl: [ACL] = .openACLUnsafe
        if args.arguments.count > 2 {
            var messages: [String] = []
            acl = ACLText.parse(args.arguments[2], messages: &messages)
            messages.forEach(printError)
            if acl.isEmpty { throw CLIError("KeeperErrorCode = InvalidACL", "Acl is not valid : null") }
        }
        let mode: CreateMode
        switch (sequential, ephemeral, container, ttl != nil) {
        case (_, _, true, _): mode = .container
        case (true, true, _, _): mode = .ephemeralSequential
        case (false, true, _, _): mode = .ephemeral
        case (true, false, _, true): mode = .persistentSequentialWithTTL
        case (false, false, _, true): mode = .persistentWithTTL
        case (true, false, _, false): mode = .persistentSequential
        default: mode = .persistent
        }
        let client = try connected()
        do {
            let created = try await client.create(path, data: data, acl: acl, mode: mode, ttl: ttl)
            printError("Created \(created)")  // zkCli's CreateCommand prints it on stderr
            return .ok
        } catch let error as ZooKeeperError where error.code == .invalidACL {
            throw CLIError(lines: [Self.keeperMessage(error)] + Self.sentences(for: error))
        }
    }

    func get(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        let path = try path(text)
        let client = try connected()
        let data: [UInt8]
        let stat: Stat
        if args.has("w") {
            let result = try await client.getDataWatching(path)
            (data, stat) = (result.data, result.stat)
            watchOnce(result.watch, path: path.string, kind: .data)
        } else {
            (data, stat) = try await client.getData(path)
        }
        let decoded = String(decoding: data, as: UTF8.self)
        if wantsJSON(args) {
            var json = "{\"path\":\(jsonString(path.string)),\"data\":\(jsonString(decoded))"
            json += ",\"stat\":\(StatPrinter.json(stat))}"
            print(json)
            return .ok
        }
        // zkCli prints "null" for a node whose data is null (created by the Java client without data, on
        // Apache); our client and server keep empty data, for which zkCli prints an empty line, as we do.
        print(decoded)
        if args.has("s") { StatPrinter.lines(stat).forEach(print) }
        return .ok
    }

    func version(from args: ParsedArguments) throws -> Int32? {
        guard let text = args.values["v"] else { return nil }
        guard let version = Int32(text) else { throw UsageError() }
        return version
    }

    func set(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard args.arguments.count >= 2 else { throw UsageError() }
        let path = try path(args.arguments[0])
        let version = try version(from: args)
        let stat = try await connected().setData(path, data: Array(args.arguments[1].utf8), version: version)
        if args.has("s") { StatPrinter.lines(stat).forEach(print) }
        return .ok
    }

    func stat(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        let path = try path(text)
        let client = try connected()
        let stat: Stat?
        if args.has("w") {
            let result = try await client.existsWatching(path)
            stat = result.stat
            watchOnce(result.watch, path: path.string, kind: .data)
        } else {
            stat = try await client.exists(path)
        }
        guard let stat else { throw CLIError("Node does not exist: \(path)") }
        if wantsJSON(args) {
            print("{\"path\":\(jsonString(path.string)),\"stat\":\(StatPrinter.json(stat))}")
        } else {
            StatPrinter.lines(stat).forEach(print)
        }
        return .ok
    }

    func delete(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        let path = try path(text)
        let version = try version(from: args)
        try await connected().delete(path, version: version)
        return .ok
    }

    func deleteAll(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        var batchSize = 1000
        if let batch = args.values["b"] {
            guard let size = Int(batch), size > 0 else { throw UsageError() }
            batchSize = size
        }
        let path = try path(text)
        let client = try connected()
        // ZKUtil.deleteRecursive: the subtree breadth-first, then deleted leaves first in multis of
        // `batchSize`; a failed batch stops it, reported in DeleteAllCommand's words on stderr.
        var nodes = [path]
        var index = 0
        while index < nodes.count {
            let node = nodes[index]
            index += 1
            for child in try await client.getChildren(node) { nodes.append(try node.appending(child)) }
        }
        let leavesFirst = nodes.reversed().map { Operation.delete($0) }
        for start in stride(from: 0, to: leavesFirst.count, by: batchSize) {
            do {
                _ = try await client.multi(Array(leavesFirst[start..<min(start + batchSize, leavesFirst.count)]))
            } catch is ZooKeeperError {
                printError("Failed to delete some node(s) in the subtree!")
                return .failed
            }
        }
        return .ok
    }

    func sync(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        let path = try path(text)
        do {
            _ = try await connected().sync(path)
        } catch let error as ZooKeeperError {
            print("Sync has failed. rc=\(error.code.rawValue)")  // SyncCommand: stdout, like the success line
            return .failed
        }
        print("Sync is OK")
        return .ok
    }

    func getEphemerals(_ args: ParsedArguments) async throws -> CommandOutcome {
        let prefix = args.arguments.first ?? "/"
        let paths = try await connected().getEphemerals(prefix: prefix)
        print("[" + paths.joined(separator: ", ") + "]")
        return .ok
    }

    func getAllChildrenNumber(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        let path = try path(text)
        print("\(try await connected().getAllChildrenNumber(path))")
        return .ok
    }

    /// `tree [path]`: the subtree drawn with box characters, children sorted.
    func tree(_ args: ParsedArguments) async throws -> CommandOutcome {
        let root = try path(args.arguments.first ?? "/")
        let client = try connected()
        let rootChildren = try await client.getChildren(root).sorted()
        print(root.string)
        // Children are read before a node's line is printed, so an unreadable node is marked on its line;
        // a node deleted meanwhile is left out.
        func draw(_ node: ZNodePath, children: [String], prefix: String) async throws {
            for (offset, child) in children.enumerated() {
                let last = offset == children.count - 1
                let path = try node.appending(child)
                var grandchildren: [String] = []
                var note = ""
                do {
                    grandchildren = try await client.getChildren(path).sorted()
                } catch let error as ZooKeeperError where error.code == .noAuth {
                    note = " (Insufficient permission)"
                } catch let error as ZooKeeperError where error.code == .noNode {
                    continue
                }
                print(prefix + (last ? "└── " : "├── ") + child + note)
                try await draw(path, children: grandchildren, prefix: prefix + (last ? "    " : "│   "))
            }
        }
        try await draw(root, children: rootChildren, prefix: "")
        return .ok
    }
}
