import ZooKeeperClient
import ZooKeeperProtocol

// getAcl, setAcl, addauth, whoami.

extension Shell {
    static let aclCommands: [String: CommandSpec] = [
        "getAcl": CommandSpec(usage: "getAcl [-s] path", flags: ["s"]) { try await $0.getAcl($1) },
        "setAcl": CommandSpec(usage: "setAcl [-s] [-v version] [-R] path acl", flags: ["s", "R"], valued: ["v"]) {
            try await $0.setAcl($1)
        },
        "addauth": CommandSpec(usage: "addauth scheme auth") { try await $0.addAuth($1) },
        "whoami": CommandSpec(usage: "whoami ") { shell, _ in try await shell.whoAmI() },
    ]

    func getAcl(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        let path = try path(text)
        let (acl, stat) = try await connected().getACL(path)
        ACLText.lines(acl).forEach(print)
        if args.has("s") { StatPrinter.lines(stat).forEach(print) }
        return .ok
    }

    func setAcl(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard args.arguments.count >= 2 else { throw UsageError() }
        let path = try path(args.arguments[0])
        let version = try version(from: args)
        var messages: [String] = []
        let acl = ACLText.parse(args.arguments[1], messages: &messages)
        messages.forEach(printError)
        if acl.isEmpty { throw CLIError("Acl is not valid : null") }
        let client = try connected()
        if args.has("R") {
            var nodes = [path]
            var index = 0
            while index < nodes.count {
                let node = nodes[index]
                index += 1
                for child in try await client.getChildren(node).sorted() { nodes.append(try node.appending(child)) }
            }
            // SetAclCommand -R: a node that refuses is reported on stdout (zkCli leaves out the newline)
            // and the walk goes on.
            for node in nodes {
                do {
                    _ = try await client.setACL(node, acl: acl, version: version)
                } catch let error as ZooKeeperError {
                    print(Self.keeperMessage(error))
                }
            }
            return .ok
        }
        let stat = try await client.setACL(path, acl: acl, version: version)
        if args.has("s") { StatPrinter.lines(stat).forEach(print) }
        return .ok
    }

    func addAuth(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard args.arguments.count >= 2 else { throw UsageError() }
        try await connected().addAuth(scheme: args.arguments[0], auth: Array(args.arguments[1].utf8))
        return .ok
    }

    func whoAmI() async throws -> CommandOutcome {
        let infos = try await connected().whoAmI()
        print("Auth scheme: User")
        for info in infos { print("\(info.authScheme): \(info.user)") }
        return .ok
    }
}
