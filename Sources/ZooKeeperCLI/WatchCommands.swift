import ZooKeeperClient
import ZooKeeperProtocol

// addWatch, removewatches, printwatches, and printing watch events.

extension Shell {
    static let watchCommands: [String: CommandSpec] = [
        "addWatch": CommandSpec(
            usage: "addWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
            valued: ["m"]) { try await $0.addWatch($1) },
        "removewatches": CommandSpec(usage: "removewatches path [-c|-d|-a] [-l]", flags: ["c", "d", "a", "l"]) {
            try await $0.removeWatches($1)
        },
        "printwatches": CommandSpec(usage: "printwatches on|off", needsConnection: false) { try await $0.printWatchesCommand($1) },
    ]

    /// Prints an event as zkCli's default watcher does (when `printwatches` is on).
    func printEvent(state: KeeperState, type: EventType, path: String?) {
        guard printWatches.on else { return }
        print("")
        print("WATCHER::")
        print("")
        print("WatchedEvent state:\(state) type:\(type) path:\(path ?? "null")")
    }

    func printEvent(_ event: WatchedEvent) {
        printEvent(state: event.state, type: event.type, path: event.path)
    }

    /// Prints a one-shot watch's event when it fires. Like Java's default watcher (one object, held in a
    /// set), a notification that triggers several of our watches on a path prints once.
    func watchOnce(_ watch: OneShotWatch, path: String, kind: OneShotKind) {
        nextWatchID += 1
        let id = nextWatchID
        oneShotWatches[path, default: [:]][id] = kind
        watchTasks.append(Task { [weak self] in
            guard let event = try? await watch.event() else { return }
            await self?.oneShotFired(event, path: path, id: id)
        })
    }

    func oneShotFired(_ event: WatchedEvent, path: String, id: Int) {
        guard var registered = oneShotWatches[path], registered[id] != nil else { return }
        let triggered: Set<OneShotKind>
        switch event.type {
        case .nodeDataChanged, .nodeCreated, .dataWatchRemoved: triggered = [.data]
        case .nodeChildrenChanged, .childWatchRemoved: triggered = [.child]
        default: triggered = [.data, .child]
        }
        registered = registered.filter { !triggered.contains($0.value) }
        oneShotWatches[path] = registered.isEmpty ? nil : registered
        printEvent(event)
    }

    func addWatch(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        var mode = AddWatchMode.persistentRecursive
        if let name = args.values["m"] {
            switch name {
            case "PERSISTENT": mode = .persistent
            case "PERSISTENT_RECURSIVE": mode = .persistentRecursive
            default: throw UsageError()
            }
        }
        let path = try path(text)
        let watch = try await connected().addWatch(path, mode: mode)
        let previous = persistentWatches[path.string]
        persistentWatches[path.string] = Task { [weak self] in
            do {
                for try await event in watch { await self?.printEvent(event) }
                if !Task.isCancelled {
                    await self?.printEvent(state: .syncConnected, type: .persistentWatchRemoved, path: path.string)
                }
            } catch {}
        }
        previous?.cancel()
        return .ok
    }

    func removeWatches(_ args: ParsedArguments) async throws -> CommandOutcome {
        guard let text = args.arguments.first else { throw UsageError() }
        let path = try path(text)
        var type = WatcherType.any
        if args.has("c") { type = .children } else if args.has("d") { type = .data }
        try await connected().removeWatches(path, type: type, local: args.has("l"))
        if type == .any, let task = persistentWatches.removeValue(forKey: path.string) {
            // The sequence finishes on removal; let its task print the event before the next command.
            await task.value
        }
        return .ok
    }

    func printWatchesCommand(_ args: ParsedArguments) async throws -> CommandOutcome {
        // As zkCli: any word but "on" turns printing off.
        if let word = args.arguments.first {
            printWatches.on = word == "on"
        } else {
            print("printwatches is \(printWatches.on ? "on" : "off")")
        }
        return .ok
    }
}

/// Which of the server's one-shot watch tables a watch is in.
enum OneShotKind: Sendable, Hashable {
    case data
    case child
}
