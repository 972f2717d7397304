import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

struct InstanceDetails: Codable, Sendable, Hashable {
    var region: String
    var weight: Int
}

@Suite("ServiceDiscovery", .timeLimit(.minutes(1)))
struct ServiceDiscoveryTests {
    @Test("Curator's JSON (compatible mode, no enabled) decodes with its field names")
    func decodesCuratorJSON() throws {
        let json = """
            {"name":"test","id":"ca2fff8e-d756-480c-b59e-8297ff88624b","address":"10.20.30.40","port":1234,\
            "payload":"From Test","registrationTimeUTC":1325129459728,"serviceType":"STATIC"}
            """
        let instance = try ServiceInstanceSerializer<String>().deserialize(Array(json.utf8))
        #expect(instance.name == "test")
        #expect(instance.id == "ca2fff8e-d756-480c-b59e-8297ff88624b")
        #expect(instance.address == "10.20.30.40")
        #expect(instance.port == 1234)
        #expect(instance.sslPort == nil)
        #expect(instance.payload == "From Test")
        #expect(instance.registrationTimeUTC == 1_325_129_459_728)
        #expect(instance.serviceType == .static)
        #expect(instance.enabled, "absent enabled (compatible mode) means enabled")
    }

    @Test("a POJO payload with @class, uriSpec and enabled decodes; unknown fields are ignored")
    func decodesFullCuratorJSON() throws {
        let json = """
            {"name":"api","id":"1","address":"h","port":80,"sslPort":443,\
            "payload":{"@class":"com.x.InstanceDetails","region":"eu","weight":3},\
            "registrationTimeUTC":1,"serviceType":"DYNAMIC",\
            "uriSpec":{"parts":[{"value":"scheme","variable":true},{"value":"://","variable":false},\
            {"value":"address","variable":true}]},"enabled":false,"somethingNew":42}
            """
        let instance = try ServiceInstanceSerializer<InstanceDetails>().deserialize(Array(json.utf8))
        #expect(instance.payload == InstanceDetails(region: "eu", weight: 3))
        #expect(instance.sslPort == 443)
        #expect(!instance.enabled)
        #expect(instance.uriSpec == UriSpec("{scheme}://{address}"))
        #expect(instance.uriSpec?.build(for: instance) == "https://h")
    }

    @Test("encoding uses Curator's field names; compatible mode omits enabled; round trip")
    func encodes() throws {
        let instance = ServiceInstance<String>(name: "n", id: "i", address: "a", port: 1, payload: nil,
                                               registrationTimeUTC: 5)
        let bytes = try ServiceInstanceSerializer<String>().serialize(instance)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(Set(object.keys) == ["name", "id", "address", "port", "registrationTimeUTC", "serviceType", "enabled"])
        #expect(object["serviceType"] as? String == "DYNAMIC")
        let compatible = try ServiceInstanceSerializer<String>(compatibleMode: true).serialize(instance)
        let compatibleObject = try #require(try JSONSerialization.jsonObject(with: Data(compatible)) as? [String: Any])
        #expect(compatibleObject["enabled"] == nil)
        #expect(try ServiceInstanceSerializer<String>().deserialize(bytes) == instance)
    }

    @Test("register 3 instances: names and instances query back with the same fields")
    func registerAndQuery() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let discovery = ServiceDiscovery<InstanceDetails>(client: clients[0], basePath: "/services")
                let instances = (0..<3).map { index in
                    ServiceInstance(name: "api", id: "id-\(index)", address: "10.0.0.\(index)", port: 8000 + index,
                                    sslPort: index == 0 ? 8443 : nil,
                                    payload: InstanceDetails(region: "r\(index)", weight: index))
                }
                for instance in instances { try await discovery.register(instance) }
                try await discovery.register(ServiceInstance(name: "db", id: "x", payload: nil))

                let reader = ServiceDiscovery<InstanceDetails>(client: clients[1], basePath: "/services")
                _ = try await clients[1].sync("/services")  // maybe another member: read what the discovery registered
                #expect(try await reader.queryForNames() == ["api", "db"])
                let found = try await reader.queryForInstances(named: "api")
                #expect(found == instances)
                #expect(try await reader.queryForInstance(named: "api", id: "id-1") == instances[1])
                #expect(try await reader.queryForInstance(named: "api", id: "nope") == nil)
                #expect(try await reader.queryForInstances(named: "none").isEmpty)
                let stat = try #require(try await clients[1].exists("/services/api/id-0"))
                #expect(stat.ephemeralOwner == clients[0].session!.id, "dynamic instances are ephemeral")

                // update rewrites the data
                var changed = instances[2]
                changed.port = 9999
                try await discovery.update(changed)
                _ = try await clients[1].sync("/services/api")  // maybe another member: read what the discovery wrote
                #expect(try await reader.queryForInstance(named: "api", id: "id-2")?.port == 9999)

                // registering again replaces (delete + recreate)
                try await discovery.register(changed)
                _ = try await clients[1].sync("/services/api")  // maybe another member: read what the discovery recreated
                #expect(try await reader.queryForInstances(named: "api").count == 3)
                await discovery.close()
                _ = try await clients[1].sync("/services/api")  // maybe another member: read what the discovery deleted
                #expect(try await reader.queryForInstances(named: "api").isEmpty)
            }
        }
    }

    @Test("an in-place update (data only), a service created after the cache started, and a foreign node")
    func cacheFollowsUpdates() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let cache = ServiceCache<String>(client: clients[1], path: "/svc/late")
                try await cache.start()  // the service node does not exist yet
                #expect(cache.instances.isEmpty)
                let snapshots = cache.snapshots()
                let discovery = ServiceDiscovery<String>(client: clients[0], basePath: "/svc")
                var instance = ServiceInstance<String>(name: "late", id: "x", payload: "v1")
                try await discovery.register(instance)
                try await withTimeout(.seconds(10)) {
                    for await snapshot in snapshots where snapshot.map(\.payload) == ["v1"] { return }
                }
                instance.payload = "v2"
                try await discovery.update(instance)  // setData only: no children change
                try await withTimeout(.seconds(10)) {
                    for await snapshot in snapshots where snapshot.map(\.payload) == ["v2"] { return }
                }
                try await clients[0].create("/svc/late/not-an-instance", data: Array("junk".utf8))
                instance.payload = "v3"
                try await discovery.update(instance)  // its event comes after the foreign node's
                try await withTimeout(.seconds(10)) {
                    for await snapshot in snapshots where snapshot.map(\.payload) == ["v3"] { return }
                }
                #expect(cache.instances.map(\.id) == ["x"], "undecodable nodes are left out")
                await cache.close()
                await discovery.close()
            }
        }
    }

    @Test("unregister removes the node and the cache follows")
    func unregister() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let discovery = ServiceDiscovery<String>(client: clients[0], basePath: "/svc")
                let a = ServiceInstance<String>(name: "web", id: "a", payload: "A")
                let b = ServiceInstance<String>(name: "web", id: "b", payload: "B")
                try await discovery.register(a)
                try await discovery.register(b)
                // Another client, maybe on another member: sync first to read what the first one wrote.
                _ = try await clients[1].sync("/svc/web")
                let cache = try ServiceDiscovery<String>(client: clients[1], basePath: "/svc").serviceCache(named: "web")
                try await cache.start()
                #expect(cache.instances.map(\.id) == ["a", "b"])
                let snapshots = cache.snapshots()
                try await discovery.unregister(a)
                _ = try await clients[1].sync("/svc/web")
                #expect(try await clients[1].exists("/svc/web/a") == nil)
                try await withTimeout(.seconds(10)) {
                    for await snapshot in snapshots where snapshot.map(\.id) == ["b"] { return }
                }
                #expect(discovery.registeredInstances.map(\.id) == ["b"])
                try await discovery.unregister(a)  // absent: fine
                await cache.close()
                await discovery.close()
            }
        }
    }

    @Test("an instance whose session expires disappears from the cache")
    func sessionExpiryRemovesFromCache() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let first = ServiceDiscovery<String>(client: clients[0], basePath: "/svc")
                let second = ServiceDiscovery<String>(client: clients[1], basePath: "/svc")
                try await first.register(ServiceInstance(name: "web", id: "one"))
                try await second.register(ServiceInstance(name: "web", id: "two"))
                _ = try await clients[2].sync("/svc/web")  // maybe another member: read what clients[0] and clients[1] registered
                let cache = ServiceCache<String>(client: clients[2], path: "/svc/web")
                try await cache.start()
                #expect(cache.instances.map(\.id) == ["one", "two"])
                let snapshots = cache.snapshots()
                try await server.expireSession(clients[0].session)
                try await withTimeout(.seconds(10)) {
                    for await snapshot in snapshots where snapshot.map(\.id) == ["two"] { return }
                }
                #expect(cache.instances.map(\.id) == ["two"])
                await cache.close()
            }
        }
    }

    @Test("after session loss the discovery re-registers through a new client from the factory")
    func reRegistersAfterSessionLoss() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let observer = clients[0]
                let made = ClientFactory(server)  // every client it makes, for the checks and closing
                let discovery = ServiceDiscovery<String>(client: try await made.connect(), basePath: "/svc",
                                                         reconnect: { try await made.connect() })
                try await discovery.start()
                try await discovery.register(ServiceInstance(name: "web", id: "me"))
                _ = try await observer.sync("/svc/web/me")  // maybe another member: read what the discovery registered
                let oldSession = try #require(try await observer.exists("/svc/web/me")).ephemeralOwner
                try await server.expireSession(made.clients.first?.session)
                try await eventually(within: .seconds(10)) {
                    guard let stat = try? await observer.exists("/svc/web/me") else { return false }
                    return stat.ephemeralOwner != oldSession
                }
                #expect(made.clients.count == 2)
                await discovery.close()
                for client in made.clients { await client.close() }
            }
        }
    }

    @Test("a dropped connection: on reconnection the registration is verified and kept")
    func keepsRegistrationAcrossReconnect() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let discovery = ServiceDiscovery<String>(client: clients[0], basePath: "/svc")
                try await discovery.start()
                try await discovery.register(ServiceInstance(name: "web", id: "me"))
                let states = clients[0].connectionStates()
                try await server.dropConnection(of: clients[0])
                try await waitForState(states) { $0 == .reconnected }
                // Meanwhile someone deletes it: a later reconnection recreates it.
                try await clients[1].delete("/svc/web/me")
                let again = clients[0].connectionStates()
                try await server.dropConnection(of: clients[0])
                try await waitForReconnection(again)  // the state now is `.reconnected` already: wait for this drop
                try await eventually(within: .seconds(10)) { (try? await clients[1].exists("/svc/web/me")) != nil }
                await discovery.close()
            }
        }
    }

    @Test("round-robin cycles in id order; sticky keeps one until it goes; random stays in the set")
    func providerStrategies() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let discovery = ServiceDiscovery<String>(client: clients[0], basePath: "/svc")
                for id in ["a", "b", "c"] { try await discovery.register(ServiceInstance(name: "web", id: id)) }
                try await discovery.register(ServiceInstance(name: "web", id: "d", enabled: false))
                let cache = try discovery.serviceCache(named: "web")
                try await cache.start()

                let roundRobin = ServiceProvider(cache: cache, strategy: .roundRobin)
                #expect((0..<7).compactMap { _ in roundRobin.getInstance()?.id } == ["a", "b", "c", "a", "b", "c", "a"])

                let random = ServiceProvider(cache: cache, strategy: .random)
                for _ in 0..<20 { #expect(["a", "b", "c"].contains(random.getInstance()?.id)) }

                let sticky = ServiceProvider(cache: cache, strategy: .sticky(.roundRobin))
                let chosen = try #require(sticky.getInstance())
                for _ in 0..<5 { #expect(sticky.getInstance()?.id == chosen.id) }
                let snapshots = cache.snapshots()
                try await discovery.unregister(chosen)
                try await withTimeout(.seconds(10)) {
                    for await snapshot in snapshots where !snapshot.contains(where: { $0.id == chosen.id }) { return }
                }
                let next = try #require(sticky.getInstance())
                #expect(next.id != chosen.id)
                #expect(sticky.getInstance()?.id == next.id)

                let none = ServiceProvider<String>(strategy: .roundRobin) { [] }
                #expect(none.getInstance() == nil)
                await cache.close()
                await discovery.close()
            }
        }
    }
}
