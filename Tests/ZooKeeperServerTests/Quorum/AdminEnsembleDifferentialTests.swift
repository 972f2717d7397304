import Testing
import ZooKeeperHTTP
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Our ensemble member's admin server against Apache 3.8's in the same mixed ensemble: a follower of ours
/// beside an Apache follower, then a leader of ours against the Apache leader of the first ensemble. Field
/// names and value kinds must be Apache's for the commands whose answers depend on the role.
@Suite(.serialized, .timeLimit(.minutes(4)),
       .enabled(if: ApacheZooKeeper.isAdminServerInstalled,
                "needs Apache ZooKeeper 3.8 and its admin server's jars (libjetty9-java, libjackson2-databind-java)"))
struct AdminEnsembleDifferentialTests {
    typealias Mixed = MixedEnsembleClientTests.Mixed

    static let exact = ["leader", "voting_view", "server_stats", "stats", "configuration", "zabstate", "is_read_only",
                        "observers", "hash", "initial_configuration"]
    /// Apache's metrics provider adds hundreds of `monitor` fields.
    static let subset = ["monitor"]
    static let dataKeyed: Set<String> = ["current_config"]

    static func answers(port: Int) throws -> [String: JSONValue] {
        var answers: [String: JSONValue] = [:]
        for name in exact + subset {
            let answer = try httpGet(port: port, path: "/commands/\(name)")
            guard answer.status == 200 else { throw TestSupportError("\(name): HTTP \(answer.status)") }
            answers[name] = try JSONValue(parsing: answer.body)
        }
        return answers
    }

    static func differences(_ theirs: [String: JSONValue], _ ours: [String: JSONValue], role: String) -> [String] {
        (exact + subset).flatMap { name in
            JSONShape.differences(theirs[name]!, ours[name]!, at: "\(role) \(name)", subset: subset.contains(name), dataKeyed: dataKeyed)
        }
    }

    /// The admin port of the Apache member in `mode`.
    static func apachePort(_ mixed: Mixed, mode: String) throws -> Int? {
        for node in mixed.apache.values {
            guard let port = node.adminPort else { continue }
            if try JSONValue(parsing: try httpGet(port: port, path: "/commands/monitor").body)["server_state"] == .string(mode) { return port }
        }
        return nil
    }

    @Test func followersAndLeadersAnswerWithApachesShapes() async throws {
        // Apache leads (sid 3); our sid 1 follows beside Apache's sid 2.
        var apacheLeader: [String: JSONValue] = [:]
        let first = try Mixed(ours: 1, apacheReady: ["leader", "follower"], adminServer: true)
        do {
            try await first.startApache()
            try await first.server.start()
            try await eventually(within: .seconds(30)) { first.ourMode() == "follower" }
            let ourPort = try #require(first.server.adminPort)
            var theirFollower: Int?
            var theirLeader: Int?
            try await eventually(within: .seconds(30)) {
                theirFollower = try Self.apachePort(first, mode: "follower")
                theirLeader = try Self.apachePort(first, mode: "leader")
                return theirFollower != nil && theirLeader != nil
            }
            let differences = Self.differences(try Self.answers(port: theirFollower!), try Self.answers(port: ourPort), role: "follower")
            #expect(differences.isEmpty, Comment(rawValue: differences.joined(separator: "\n")))
            apacheLeader = try Self.answers(port: theirLeader!)
            #expect(apacheLeader["leader"]?["is_leader"] == .bool(true))
        } catch {
            await first.cleanup()
            throw error
        }
        await first.cleanup()

        // Our sid 3 leads two Apache followers.
        let second = try Mixed(ours: 3, apacheReady: ["follower"], adminServer: true)
        do {
            try await second.server.start()
            try await second.startApache()
            try await eventually(within: .seconds(30)) { second.ourMode() == "leader" }
            let ours = try Self.answers(port: try #require(second.server.adminPort))
            #expect(ours["leader"]?["is_leader"] == .bool(true))
            let differences = Self.differences(apacheLeader, ours, role: "leader")
            #expect(differences.isEmpty, Comment(rawValue: differences.joined(separator: "\n")))
        } catch {
            await second.cleanup()
            throw error
        }
        await second.cleanup()
    }
}
