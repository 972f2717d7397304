import ZooKeeperTestSupport

/// An Apache ZooKeeper 3.8 standalone server started for one zk-bench run (`--start-apache`), with the
/// stock settings (fsync on), so a benchmark needs nothing running beforehand.
struct ReferenceServer {
    let server: ApacheZooKeeper
    var connectString: String { server.connectString }

    static func start() async throws -> ReferenceServer {
        guard ApacheZooKeeper.isInstalled else {
            throw UsageError("--start-apache needs Apache ZooKeeper from Debian: apt-get install zookeeper libzookeeper-java")
        }
        Output.warn("starting Apache ZooKeeper 3.8 standalone (fsync on)...")
        let server = try ApacheZooKeeper(configuration: .init(heap: "512m"))
        do {
            try await server.start()
        } catch {
            server.cleanup()
            throw error
        }
        Output.warn("Apache ZooKeeper is up at \(server.connectString)")
        return ReferenceServer(server: server)
    }

    /// Stops the server (SIGKILL is fine: nothing of it is kept) and removes its files.
    func stop() {
        server.cleanup()
    }
}
