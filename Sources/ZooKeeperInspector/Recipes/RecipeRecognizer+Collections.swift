import ZooKeeperProtocol
import ZooKeeperHTTP

/// Queues, barriers, groups, service discovery and counters.
extension RecipeRecognizer {
    /// Queue: `queue-` children (Curator's and our FIFO, priority and delay queues; `receipts/` holds the
    /// items being processed) or kazoo's `entry-` children (its LockingQueue's `taken/` beside `entries/`).
    func queue(_ entry: ZNodeEntry, _ children: [ZNodeEntry], claiming claimed: inout Set<String>) -> RecognisedRecipe? {
        let curator = children.filter { $0.name.hasPrefix("queue-") }
        let kazoo = children.filter { $0.name.hasPrefix("entry-") }
        guard !curator.isEmpty || !kazoo.isEmpty || snapshot.entry(TreeSnapshot.join(entry.path, "receipts")) != nil
                && children.allSatisfy({ $0.name == "receipts" }) else { return nil }
        let items = (curator.isEmpty ? kazoo : curator).sorted { $0.name < $1.name }
        var recipe = RecognisedRecipe(kind: .queue, path: entry.path, flavour: curator.isEmpty && !kazoo.isEmpty ? "kazoo" : "Curator/Shepherd")
        recipe.items = items.prefix(200).map { Participant(entry: $0, now: now, sequence: ContenderNames.sequence($0.name)) }
        let receiptsPath = entry.name == "entries" ? TreeSnapshot.join(TreeSnapshot.parent(of: entry.path), "taken")
            : TreeSnapshot.join(entry.path, "receipts")
        let processing = snapshot.childEntries(of: receiptsPath)
        recipe.holders = processing.map { Participant(entry: $0, now: now, role: "processing") }
        claimed.insert(receiptsPath)
        recipe.facts.append(Fact("depth", .int(Int64(items.count))))
        if let oldest = items.map(\.stat.ctime).min() { recipe.facts.append(Fact("oldestAgeMs", .int(max(0, now - oldest)))) }
        recipe.facts.append(Fact("processing", .int(Int64(processing.count))))
        return recipe
    }

    /// Double barrier (Curator's, ours, kazoo's): ephemeral members with UUID names, plus `ready` once
    /// the group was complete.
    func doubleBarrier(_ entry: ZNodeEntry, _ children: [ZNodeEntry]) -> RecognisedRecipe? {
        let members = children.filter { $0.name != "ready" }
        let ready = members.count < children.count
        guard members.allSatisfy(\.isEphemeral), ready || (!members.isEmpty && members.allSatisfy({ Self.looksLikeUUID($0.name) })) else {
            return nil
        }
        var recipe = RecognisedRecipe(kind: .doubleBarrier, path: entry.path, flavour: "Curator/Shepherd/kazoo")
        recipe.holders = members.sorted { $0.stat.ctime < $1.stat.ctime }.map { Participant(entry: $0, now: now) }
        recipe.facts.append(Fact("arrived", .int(Int64(members.count))))
        recipe.facts.append(Fact("ready", .bool(ready)))
        return recipe
    }

    /// Group membership (Curator's GroupMember, ours): a directory of ephemeral nodes, one per member.
    func group(_ entry: ZNodeEntry, _ children: [ZNodeEntry]) -> RecognisedRecipe {
        var recipe = RecognisedRecipe(kind: .group, path: entry.path, flavour: "Curator/Shepherd")
        recipe.holders = children.map { Participant(entry: $0, now: now) }
        recipe.facts.append(Fact("members", .int(Int64(children.count))))
        return recipe
    }

    /// Service discovery (Curator x-discovery, ours): `<base>/<service>/<id>` holding instance JSON.
    func serviceDiscovery(_ entry: ZNodeEntry, _ children: [ZNodeEntry], claiming claimed: inout Set<String>) -> RecognisedRecipe? {
        var services: [JSONValue] = []
        var instances: [Participant] = []
        for service in children {
            let nodes = snapshot.childEntries(of: service.path)
            let parsed = nodes.compactMap { node in Self.serviceInstance(node.data).map { (node, $0) } }
            guard !parsed.isEmpty, parsed.count == nodes.count else { continue }
            services.append(.object([
                ("name", .string(service.name)),
                ("instances", .array(parsed.map { node, json in
                    .object([("id", .string(node.name)), ("session", .string(DataRendering.hex(node.stat.ephemeralOwner))),
                             ("instance", json)])
                })),
            ]))
            instances += parsed.map { Participant(entry: $0.0, now: now, role: service.name) }
            claimed.insert(service.path)
            claimed.formUnion(nodes.map(\.path))
        }
        guard !services.isEmpty else { return nil }
        var recipe = RecognisedRecipe(kind: .serviceDiscovery, path: entry.path, flavour: "Curator x-discovery/Shepherd")
        recipe.items = instances
        recipe.facts.append(Fact("services", .array(services)))
        return recipe
    }

    /// A leaf: a counter (SharedCount's 4 or DistributedAtomicLong's 8 big-endian bytes, binary) or a set
    /// barrier (a persistent node named `…barrier…`).
    func leaf(_ entry: ZNodeEntry) -> RecognisedRecipe? {
        guard !entry.isEphemeral else { return nil }
        if (entry.data.count == 4 || entry.data.count == 8) && DataRendering.printableText(entry.data) == nil {
            var value: Int64 = 0
            for byte in entry.data { value = value << 8 | Int64(byte) }
            if entry.data.count == 4 { value = Int64(Int32(truncatingIfNeeded: value)) }
            var recipe = RecognisedRecipe(kind: .counter, path: entry.path,
                                          flavour: entry.data.count == 4 ? "SharedCount" : "DistributedAtomicLong")
            recipe.facts.append(Fact("value", .int(value)))
            recipe.facts.append(Fact("version", .int(Int64(entry.stat.version))))
            return recipe
        }
        if entry.name.lowercased().contains("barrier") {
            var recipe = RecognisedRecipe(kind: .barrier, path: entry.path, flavour: "Curator/Shepherd/kazoo")
            recipe.facts.append(Fact("state", .string("set: waiters block until it is removed")))
            recipe.facts.append(Fact("setForMs", .int(max(0, now - entry.stat.ctime))))
            return recipe
        }
        return nil
    }

    /// Curator's instance JSON: an object with `name`, `id` and `registrationTimeUTC`.
    static func serviceInstance(_ data: [UInt8]) -> JSONValue? {
        guard let json = DataRendering.json(data), json["name"] != nil, json["id"] != nil,
              json["registrationTimeUTC"] != nil else { return nil }
        return json
    }

    /// `8-4-4-4-12` hex with dashes (Java's UUID) or 32 hex digits (Python's `uuid4().hex`).
    static func looksLikeUUID(_ name: String) -> Bool {
        let hex = name.filter { $0 != "-" }
        guard hex.count == 32, hex.allSatisfy(\.isHexDigit) else { return false }
        return name.count == 32 || name.count == 36
    }
}
