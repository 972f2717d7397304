import ZooKeeperClient
import ZooKeeperProtocol

/// Completion's view of the server: the shell's session, asked with a short deadline so a Tab
/// never hangs the prompt on a slow or lost connection.
extension Shell: ZNodeDirectory {
    /// How long a Tab waits for the server.
    static let completionDeadline: Duration = .seconds(2)

    public func children(of path: String) async -> [String]? {
        guard let client, client.connectionState.isConnected, let node = try? ZNodePath(path) else { return nil }
        return await Self.withDeadline { try await client.getChildren(node) }
    }

    public func childCount(of path: String) async -> Int? {
        guard let client, client.connectionState.isConnected, let node = try? ZNodePath(path) else { return nil }
        return await Self.withDeadline { try await client.exists(node).map { Int($0.numChildren) } }
    }

    /// `work`'s answer, or nil if it fails or the deadline passes first.
    static func withDeadline<T: Sendable>(_ work: @escaping @Sendable () async throws -> T?) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { try? await work() }
            group.addTask {
                try? await Task.sleep(for: completionDeadline)
                return nil
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
    }

    /// The names Tab completes as the first word: zkCli's commands and zk-cli's own.
    public static var commandNames: [String] { commands.keys.sorted() }

    /// A completer for this shell's commands.
    public static func makeCompleter() -> Completer { Completer(commands: commandNames) }
}
