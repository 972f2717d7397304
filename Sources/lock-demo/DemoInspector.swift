import ZooKeeperClient
import ZooKeeperInspector

/// `--inspect`: the inspector on the demo's server, read-only, its ensemble panel on the demo's members.
enum DemoInspector {
    static func start(client: ZooKeeperClient, connect: String, host: String, port: Int) async throws -> ZooKeeperInspector {
        let members = (try? ZooKeeperConfiguration(connectionString: connect).servers) ?? []
        let inspector = try await ZooKeeperInspector.start(
            client: client, configuration: InspectorConfiguration(host: host, port: port, members: members))
        note("inspector on \(inspector.url) — open it to watch the lock queue and each handoff live")
        return inspector
    }
}
