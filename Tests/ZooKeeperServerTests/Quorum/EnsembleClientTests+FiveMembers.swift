import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Five voting members, as production ensembles that must survive two failures run them: a quorum is three.
extension EnsembleClientTests {
    /// Whether a create through `client` is acknowledged (false: it failed or timed out, as without a quorum).
    static func acknowledged(_ path: ZNodePath, by client: ZooKeeperClient) async -> Bool {
        (try? await withTimeout(.seconds(8)) { try await client.create(path) }) != nil
    }

    @Test func fiveMembersServeWithTwoDownAndStopWithThree() async throws {
        let directories = try (1...5).map { _ in try TemporaryDirectory() }
        defer { for directory in directories { directory.remove() } }
        let members = try await Members.start(participants: 5, configure: { sid, configuration in
            configuration.dataDirectory = directories[Int(sid) - 1].path
        })
        do {
            let all: [Int64] = [1, 2, 3, 4, 5]
            let first = try await members.settled()
            let writer = try await members.client(all.filter { $0 != first }, sessionTimeout: .seconds(4))
            try await writer.create("/five")
            try await writer.create("/five/a")

            // The leader and one follower down: three of five are a quorum, a new leader serves writes.
            let secondDown = all.first { $0 != first }!
            await members.stop(first)
            await members.stop(secondDown)
            let second = try await members.settled()
            #expect(second != first)
            try await eventually(within: .seconds(15)) { await Self.created("/five/b", by: writer) }

            // A third down: two are no quorum. They stop serving, and a write is not acknowledged.
            let thirdDown = all.first { $0 != first && $0 != secondDown && $0 != second }!
            await members.stop(thirdDown)
            let left = all.filter { ![first, secondDown, thirdDown].contains($0) }
            try await eventually(within: .seconds(10)) { left.allSatisfy { members.mode($0) == nil } }
            #expect(await !Self.acknowledged("/five/without-quorum", by: writer), "two of five acknowledged a write")
            await writer.close()

            // One back: a quorum again (a new session: the old one may have expired meanwhile).
            try await members.start(thirdDown)
            _ = try await members.settled()
            let again = try await members.client(left + [thirdDown], sessionTimeout: .seconds(4))
            try await eventually(within: .seconds(15)) { await Self.created("/five/c", by: again) }
            await again.close()

            // Everyone back: one tree on all five, holding every acknowledged write.
            try await members.start(first)
            try await members.start(secondDown)
            _ = try await members.settled()
            var trees: [Int64: Set<String>] = [:]
            for sid in all {
                let reader = try await members.client([sid])
                _ = try await reader.sync("/five")
                trees[sid] = Set(try await reader.getChildren("/five"))
                await reader.close()
            }
            #expect(Set(trees.values).count == 1, "members disagree: \(trees)")
            #expect(trees[first]?.isSuperset(of: ["a", "b", "c"]) == true, "acknowledged writes missing: \(trees[first] ?? [])")
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }
}
