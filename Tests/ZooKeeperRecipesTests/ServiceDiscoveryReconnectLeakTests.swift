import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperTestSupport

/// Defect: each failed re-registration through the `reconnect:` factory leaked the client it had made
/// (a live session and connection per attempt).
@Suite("ServiceDiscovery: failed re-registrations close their clients", .timeLimit(.minutes(1)))
struct ServiceDiscoveryReconnectLeakTests {
    @Test("re-registration fails (no CREATE permission) several times: no session is left behind; then it recovers")
    func failedReRegistrationLeavesNoSession() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let admin = clients[0]
                // A persistent service directory (a container would be reaped once empty, ACL and all).
                _ = try await admin.create("/svc")
                _ = try await admin.create("/svc/web")
                let made = ClientFactory(server)
                let discovery = ServiceDiscovery<String>(client: try await made.connect(), basePath: "/svc",
                                                         reconnect: { try await made.connect() })
                do {
                    try await discovery.start()
                    try await discovery.register(ServiceInstance(name: "web", id: "me"))
                    // Re-registration now fails (no CREATE); ADMIN kept so the ACL can be restored.
                    _ = try await admin.setACL("/svc/web", acl: [ACL(perms: [.read, .admin], id: .anyone)])
                    try await server.expireSession(made.clients.first?.session)
                    try await eventually(within: .seconds(20)) { made.clients.count >= 4 }

                    // Every client but the one being tried now has been closed: its session is gone.
                    try await eventually(within: .seconds(5)) {
                        let alive = try liveSessions(on: server)
                        return made.clients.filter { $0.session.map { alive.contains($0.id) } ?? false }.count <= 1
                    }

                    _ = try await admin.setACL("/svc/web", acl: .openACLUnsafe)
                    try await eventually(within: .seconds(10)) { (try? await admin.exists("/svc/web/me")) != nil }
                    let owner = try #require(try await admin.exists("/svc/web/me")).ephemeralOwner
                    #expect(owner == discovery.client.session?.id)
                    let alive = try liveSessions(on: server)
                    let leaked = made.clients.filter { client in
                        client !== discovery.client && client.session.map { alive.contains($0.id) } ?? false
                    }
                    #expect(leaked.isEmpty, "\(leaked.count) factory clients still hold a session")
                } catch {
                    await discovery.close()
                    for client in made.clients { await client.close() }
                    throw error
                }
                await discovery.close()
                for client in made.clients { await client.close() }
            }
        }
    }
}

/// The session ids of the connections the server lists (four-letter word `cons`).
private func liveSessions(on server: RecipeServer) throws -> Set<Int64> {
    let hostPort = server.connectString.split(separator: "/").first.map(String.init) ?? server.connectString
    let first = hostPort.split(separator: ",").first.map(String.init) ?? hostPort
    let host = String(first.split(separator: ":").dropLast().joined(separator: ":"))
    let port = try #require(first.split(separator: ":").last.flatMap { Int($0) })
    let reply = try sendFourLetterWord("cons", host: host, port: port, timeout: .seconds(5))
    var sessions: Set<Int64> = []
    for part in reply.split(whereSeparator: { $0 == "," || $0 == "(" || $0 == ")" || $0 == "\n" }) where part.hasPrefix("sid=0x") {
        if let id = UInt64(part.dropFirst("sid=0x".count), radix: 16) { sessions.insert(Int64(bitPattern: id)) }
    }
    return sessions
}
