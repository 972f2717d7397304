import Synchronization
import ZooKeeperProtocol
import Foundation
import ZooKeeperClient
import ZooKeeperHTTP

/// The inspector's background work: the recursive watch, the tree re-reads, the ensemble probe.
extension ZooKeeperInspector {
    /// One persistent recursive watch on `/`, re-added if it ends (its events are pushed as `change`).
    func followTree() async {
        while !Task.isCancelled {
            do {
                let watch = try await client.addWatch(.root, mode: .persistentRecursive)
                refreshSoon()  // anything that changed before the watch was armed
                for try await event in watch {
                    var change = JSONObject()
                    change.set("type", "\(event.type)")
                    change.set("path", event.path)
                    feed.broadcast("change", change.value, remember: false)
                    refreshSoon()
                }
            } catch {
                if Task.isCancelled { return }
                status("watch: \(error)")
            }
            try? await Task.sleep(for: .seconds(1))  // back off before re-adding after a failure
        }
    }

    /// Connection changes go to the page; a reconnection re-reads the tree (persistent watches do not
    /// replay the events missed meanwhile).
    func followConnection() async {
        for await state in client.connectionStates() {
            if Task.isCancelled { return }
            status("\(state)")
            switch state {
            case .connected, .reconnected: refreshSoon()
            default: break
            }
        }
    }

    /// Re-reads the tree when asked and pushes the recipes it recognises: at most ten times a second, and
    /// with a pause of at least twice the last read's time, so a large tree under constant change costs
    /// the ensemble a third of one client's reads at most.
    func refreshLoop() async {
        for await _ in refreshStream {
            if Task.isCancelled { return }
            let started = ContinuousClock.now
            do {
                let snapshot = try await TreeReader(client: client, maxNodes: configuration.maxNodes).read()
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                let recipes = RecipeRecognizer(snapshot: snapshot, now: now).recognise()
                var object = JSONObject()
                object.set("generatedAt", now)
                object.set("nodeCount", snapshot.entries.count)
                object.set("truncated", snapshot.truncated)
                object.set("recipes", .array(recipes.map(\.json)))
                let value = object.value
                latest.withLock { $0 = (snapshot, value) }
                feed.broadcast("recipes", value, remember: true)
            } catch {
                status("reading the tree: \(error)")
            }
            try? await Task.sleep(for: max(.milliseconds(100), (ContinuousClock.now - started) * 2))
        }
    }

    /// Probes the members every ``InspectorConfiguration/ensembleInterval`` and pushes the table.
    func probeEnsemble() async {
        let probe = EnsembleProbe(servers: configuration.members, timeout: .seconds(2))
        var lastPing = ContinuousClock.now
        var probedOnce = false
        while !Task.isCancelled {
            // Nobody watching: no four-letter-word traffic (a page that connects gets the last table at once).
            if probedOnce && feed.subscriberCount == 0 {
                try? await Task.sleep(for: .milliseconds(250))
                continue
            }
            probedOnce = true
            feed.broadcast("ensemble", await ensembleTable(probe), remember: true)
            if ContinuousClock.now - lastPing > .seconds(15) {
                feed.ping()
                lastPing = .now
            }
            try? await Task.sleep(for: configuration.ensembleInterval)
        }
    }

    /// The members' table, asked now.
    func ensembleTable(_ probe: EnsembleProbe? = nil) async -> JSONValue {
        let rows = await (probe ?? EnsembleProbe(servers: configuration.members, timeout: .seconds(2))).probe()
        var object = JSONObject()
        object.set("members", rows)
        object.set("at", Int64(Date().timeIntervalSince1970 * 1000))
        return object.value
    }

    /// A line for the page's status bar.
    func status(_ text: String) {
        var object = JSONObject()
        object.set("text", text)
        object.set("session", client.session?.idHex)
        feed.broadcast("status", object.value, remember: true)
    }
}
