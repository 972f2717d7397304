import Testing
import ZooKeeperProtocol
import ZooKeeperServer
import ZooKeeperTestSupport

/// Every opcode's permission check, as Apache ZooKeeper 3.8's PrepRequestProcessor and
/// FinalRequestProcessor do it: the same ``PermissionTable`` script (callers × ACL grantees × single
/// permissions × opcodes) against Apache standalone and our server; every cell must match.
@Suite("Permission table: Shepherd vs Apache ZooKeeper 3.8", .serialized,
       .enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)),
       .timeLimit(.minutes(2)))
struct PermissionTableTests {
    @Test("each opcode x caller (anonymous, wrong digest, right digest, ip, super, bare digest) x ACL (world, digest, ip, other ip; each permission) answers as Apache")
    func sameAnswersAsApache() async throws {
        let apache = try await TestServerFixture.privateApacheServer(.init(
            extraConfig: ["forceSync=no"],
            javaOptions: ["-Dzookeeper.extendedTypesEnabled=true",
                          "-Dzookeeper.DigestAuthenticationProvider.superDigest=\(PermissionTable.superDigest)"]))
        defer { apache.cleanup() }
        var configuration = EmbeddedServer.defaultConfiguration
        configuration.extendedTypesEnabled = true
        configuration.superDigest = PermissionTable.superDigest
        let clock = ContinuousClock()
        let (reference, candidate) = try await withEmbeddedServer(configuration: configuration, inMemory: true) { ours in
            let start = clock.now
            let reference = try await Self.table(port: apache.port)
            let apacheTime = clock.now - start
            let candidate = try await Self.table(port: ours.port)
            print("permission table: \(reference.outcomes.count) cells, \(reference.requests) requests; "
                  + "apache \(apacheTime), shepherd \(clock.now - start - apacheTime)")
            return (reference, candidate)
        }

        #expect(reference.outcomes.count > 3000)
        let keys = Set(reference.outcomes.keys).union(candidate.outcomes.keys).sorted()
        let differences = keys.filter { reference.outcomes[$0] != candidate.outcomes[$0] }.map {
            "\($0): apache \(reference.outcomes[$0] ?? "-") | shepherd \(candidate.outcomes[$0] ?? "-")"
        }
        if !differences.isEmpty {
            Issue.record(Comment(rawValue: "\(differences.count) of \(keys.count) cells differ:\n"
                                 + differences.prefix(60).joined(separator: "\n")))
        }
        print(Self.summary(reference))
        // Sanity: the table does exercise permissions (these are Apache's answers).
        #expect(reference.outcomes["anonymous digest-all getData"] == "noAuth")
        #expect(reference.outcomes["rightDigest digest-r getData"] == "ok data=")
        #expect(reference.outcomes["superUser otherIP-none setData"] == "ok")
        #expect(reference.outcomes["bareDigest whoAmI"] == "ok ip:127.0.0.1,digest:\(PermissionTable.user)")
    }

    /// Which single permission lets alice through, per op (Apache's answers): the table in brief.
    static func summary(_ table: PermissionTable) -> String {
        let ops = PermissionTable.ops(PermissionTable.targets[0]).map(\.0)
        return "permission each op needs (alice on alice-only ACLs, Apache 3.8):\n" + ops.map { op in
            let passing = PermissionTable.grants.filter { grant in
                table.outcomes["rightDigest digest-\(grant.name) \(op)"].map { $0.hasPrefix("ok") && !$0.contains("noAuth") } ?? false
            }.map(\.name)
            if passing.isEmpty { return "  \(op): never (\(table.outcomes["rightDigest digest-all \(op)"] ?? "-"))" }
            return "  \(op): " + (passing.count == PermissionTable.grants.count ? "none" : passing.joined(separator: ","))
        }.joined(separator: "\n")
    }

    static func table(port: Int) async throws -> PermissionTable {
        try await onOwnThread {
            var table = PermissionTable(port: port)
            try table.run()
            return table
        }
    }
}
