import ZooKeeperProtocol
import ZooKeeperHTTP

/// Recognises recipes from a tree's layout alone — Curator's, ours (the same layouts) and kazoo's where
/// they differ. Pure: a snapshot and the time in, recipes out.
///
/// Layout only is a guess by nature: a directory of `lock-` nodes is a lock or a LeaderSelector (the
/// same nodes), a directory of ephemeral nodes a group or a double barrier. Each rule below says what it
/// looks for; nodes a recipe claimed (a semaphore's `locks/`, a discovery base's services) are not
/// recognised again on their own. `/zookeeper` is skipped.
public struct RecipeRecognizer: Sendable {
    public var snapshot: TreeSnapshot
    /// Now, ms since 1970: ages and held-for times are relative to it.
    public var now: Int64

    public init(snapshot: TreeSnapshot, now: Int64) {
        self.snapshot = snapshot
        self.now = now
    }

    /// Every recipe found, by path.
    public func recognise() -> [RecognisedRecipe] {
        var found: [RecognisedRecipe] = []
        var claimed: Set<String> = []
        for path in snapshot.paths where path != "/zookeeper" && !path.hasPrefix("/zookeeper/") {
            guard !claimed.contains(path), let entry = snapshot.entry(path) else { continue }
            if let recipe = recogniseNode(entry, claiming: &claimed) { found.append(recipe) }
        }
        return found.sorted { $0.path < $1.path }
    }

    private func recogniseNode(_ entry: ZNodeEntry, claiming claimed: inout Set<String>) -> RecognisedRecipe? {
        let children = snapshot.childEntries(of: entry.path)
        if children.isEmpty { return leaf(entry) }
        if let semaphore = semaphore(entry, claiming: &claimed) { return semaphore }
        if let discovery = serviceDiscovery(entry, children, claiming: &claimed) { return discovery }
        let names = children.map(\.name)
        let count = { (marker: String) in names.filter { ContenderNames.isContender($0, marker) }.count }
        if count(ContenderNames.read) + count(ContenderNames.write) > 0 {
            return readWriteLock(entry, children, markers: [ContenderNames.read, ContenderNames.write], flavour: "Curator/Shepherd")
        }
        if count(ContenderNames.kazooReadLock) > 0 {
            return readWriteLock(entry, children, markers: [ContenderNames.kazooReadLock, ContenderNames.kazooLock], flavour: "kazoo")
        }
        if count(ContenderNames.latch) > 0 { return latch(entry, children) }
        if count(ContenderNames.kazooLock) + count(ContenderNames.lock) > 0 { return lock(entry, children) }
        if let queue = queue(entry, children, claiming: &claimed) { return queue }
        if let barrier = doubleBarrier(entry, children) { return barrier }
        if children.allSatisfy(\.isEphemeral) { return group(entry, children) }
        return nil
    }

    // MARK: - Locks and leader election

    /// A mutex: `lock-` / kazoo `__lock__` children; the first holds. A LeaderSelector has the same layout
    /// with each participant's id as data — where every contender has a text that is not an address (a
    /// Curator mutex stores the host's IP address, ours nothing), it is shown as an election.
    private func lock(_ entry: ZNodeEntry, _ children: [ZNodeEntry]) -> RecognisedRecipe {
        let markers = [ContenderNames.kazooLock, ContenderNames.lock]
        let contenders = ordered(Self.contenders(children, markers), markers: markers)
        if contenders.allSatisfy({ $0.text.map { !Self.looksLikeAddress($0) } ?? false }) {
            var recipe = RecognisedRecipe(kind: .leaderSelector, path: entry.path, flavour: "Curator/Shepherd")
            recipe.holders = Array(contenders.prefix(1))
            recipe.waiters = Array(contenders.dropFirst())
            addLeaderFacts(&recipe)
            return recipe
        }
        let kazoo = contenders.contains { $0.name.contains(ContenderNames.kazooLock) }
        let ours = contenders.contains { !$0.name.contains(ContenderNames.kazooLock) }
        var recipe = RecognisedRecipe(kind: .lock, path: entry.path,
                                      flavour: kazoo && ours ? "Curator/Shepherd + kazoo" : kazoo ? "kazoo" : "Curator/Shepherd")
        recipe.holders = Array(contenders.prefix(1))
        recipe.waiters = Array(contenders.dropFirst())
        addHolderFacts(&recipe)
        recipe.facts.append(Fact("contenders", .int(Int64(contenders.count))))
        return recipe
    }

    /// Read/write lock: readers hold unless a writer is before them; a writer holds when first.
    private func readWriteLock(_ entry: ZNodeEntry, _ children: [ZNodeEntry], markers: [String], flavour: String) -> RecognisedRecipe {
        let readMarker = markers[0]
        var contenders = ordered(Self.contenders(children, markers), markers: markers)
        for index in contenders.indices {
            contenders[index].role = contenders[index].name.contains(readMarker) ? "reader" : "writer"
        }
        var recipe = RecognisedRecipe(kind: .readWriteLock, path: entry.path, flavour: flavour)
        if let first = contenders.first, first.role == "writer" {
            recipe.holders = [first]
            recipe.waiters = Array(contenders.dropFirst())
        } else {
            let firstWriter = contenders.firstIndex { $0.role == "writer" } ?? contenders.endIndex
            recipe.holders = Array(contenders[..<firstWriter])
            recipe.waiters = Array(contenders[firstWriter...])
        }
        addHolderFacts(&recipe)
        recipe.facts.append(Fact("readers", .int(Int64(contenders.filter { $0.role == "reader" }.count))))
        recipe.facts.append(Fact("writers", .int(Int64(contenders.filter { $0.role == "writer" }.count))))
        return recipe
    }

    /// Leader latch: `latch-` children; the lowest sequence leads. The term is the leader node's czxid
    /// (it grows with every new leader).
    private func latch(_ entry: ZNodeEntry, _ children: [ZNodeEntry]) -> RecognisedRecipe {
        let participants = ordered(Self.contenders(children, [ContenderNames.latch]), markers: [ContenderNames.latch])
        var recipe = RecognisedRecipe(kind: .leaderLatch, path: entry.path, flavour: "Curator/Shepherd")
        recipe.holders = Array(participants.prefix(1))
        recipe.waiters = Array(participants.dropFirst())
        addLeaderFacts(&recipe)
        return recipe
    }

    private func addLeaderFacts(_ recipe: inout RecognisedRecipe) {
        if let leader = recipe.holders.first {
            recipe.facts.append(Fact("leader", leader.text.map(JSONValue.string) ?? .string(leader.name)))
            recipe.facts.append(Fact("term", .string(DataRendering.hex(leader.czxid))))
            recipe.facts.append(Fact("leaderForMs", .int(leader.ageMs)))
            recipe.facts.append(Fact("leaderSession", .string(DataRendering.hex(leader.session))))
        }
        recipe.facts.append(Fact("participants", .int(Int64(recipe.holders.count + recipe.waiters.count))))
    }

    /// An IPv4 or IPv6 address (what Curator's mutex stores as its nodes' data).
    static func looksLikeAddress(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4 && parts.allSatisfy({ UInt8($0) != nil }) { return true }
        return text.contains(":") && text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "%" }
    }

    /// Semaphore (Curator's InterProcessSemaphoreV2 and semaphore mutex, ours): `leases/…lease-` holders
    /// and `locks/…lock-` waiters under one node.
    private func semaphore(_ entry: ZNodeEntry, claiming claimed: inout Set<String>) -> RecognisedRecipe? {
        let leasesPath = TreeSnapshot.join(entry.path, "leases"), locksPath = TreeSnapshot.join(entry.path, "locks")
        guard snapshot.entry(leasesPath) != nil else { return nil }
        let leases = snapshot.childEntries(of: leasesPath)
        guard leases.allSatisfy({ ContenderNames.isContender($0.name, ContenderNames.lease) }) else { return nil }
        let locks = Self.contenders(snapshot.childEntries(of: locksPath), [ContenderNames.lock])
        var recipe = RecognisedRecipe(kind: .semaphore, path: entry.path, flavour: "Curator/Shepherd")
        recipe.holders = ordered(leases, markers: [ContenderNames.lease])
        recipe.waiters = ordered(locks, markers: [ContenderNames.lock])
        recipe.facts.append(Fact("leases", .int(Int64(leases.count))))
        recipe.facts.append(Fact("waiting", .int(Int64(locks.count))))
        claimed.formUnion([leasesPath, locksPath])
        return recipe
    }

    private func addHolderFacts(_ recipe: inout RecognisedRecipe) {
        guard let holder = recipe.holders.first else {
            recipe.facts.append(Fact("state", .string("free")))
            return
        }
        recipe.facts.append(Fact("fencingToken", .string(DataRendering.hex(holder.czxid))))
        recipe.facts.append(Fact("ownerSession", .string(DataRendering.hex(holder.session))))
        recipe.facts.append(Fact("heldForMs", .int(holder.ageMs)))
    }

    /// The children that are contenders of one of `markers` (others in a lock directory are ignored, as
    /// the recipes ignore them).
    static func contenders(_ children: [ZNodeEntry], _ markers: [String]) -> [ZNodeEntry] {
        children.filter { child in markers.contains { ContenderNames.isContender(child.name, $0) } }
    }

    private func ordered(_ children: [ZNodeEntry], markers: [String]) -> [Participant] {
        let byName = Dictionary(children.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return ContenderNames.ordered(children.map(\.name), markers: markers).compactMap { name in
            byName[name].map { Participant(entry: $0, now: now, sequence: ContenderNames.sequence(name)) }
        }
    }
}
