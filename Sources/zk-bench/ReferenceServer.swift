import ZooKeeperServer
import ZooKeeperTestSupport

/// A server started for one zk-bench run: Apache ZooKeeper 3.8 standalone from the Debian jars
/// (`--start-apache`) or our own, in process (`--embedded`); both with fsync on, so a benchmark needs
/// nothing running beforehand.
enum ReferenceServer {
    case apache(ApacheZooKeeper)
    case embedded(EmbeddedServer)

    var connectString: String {
        switch self {
        case let .apache(server): server.connectString
        case let .embedded(server): server.connectString
        }
    }

    /// Our server, when this process runs it (`--embedded`): modes may use its fault switches.
    var embeddedServer: EmbeddedServer? {
        if case let .embedded(server) = self { return server }
        return nil
    }

    static func startApache() async throws -> ReferenceServer {
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
        return .apache(server)
    }

    static func startEmbedded() async throws -> ReferenceServer {
        var configuration = EmbeddedServer.defaultConfiguration
        configuration.preAllocSizeKB = 65_536  // as a production server
        let server = try await EmbeddedServer.start(configuration: configuration)
        Output.warn("Shepherd's embedded server (fsync on) is up at \(server.connectString)")
        return .embedded(server)
    }

    /// Stops the server and removes its files.
    func stop() async {
        switch self {
        case let .apache(server): server.cleanup()
        case let .embedded(server): await server.stop()
        }
    }
}
