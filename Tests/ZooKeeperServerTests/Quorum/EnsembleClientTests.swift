import Foundation
import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Clients on every member of a three-member ensemble of our servers (in this process, in memory): one
/// tree seen from every member, writes forwarded to the leader, watches firing on every member, sessions
/// the leader alone expires, and clients moving to another member when theirs goes.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct EnsembleClientTests {
    /// The public ``EmbeddedEnsemble`` with what these tests add: 100 ms ticks, in memory unless `configure`
    /// gives a member a data directory, `srvr`-based modes, and clients pinned to chosen members.
    final class Members: Sendable {
        let ensemble: EmbeddedEnsemble
        var configurations: [Int64: ServerConfiguration] { ensemble.configurations }

        private init(_ ensemble: EmbeddedEnsemble) { self.ensemble = ensemble }

        /// `participants` voting members (sids 1…, three by default), plus `observers` observers (the sids after
        /// them), on free ports, started. `configure` adjusts each member's configuration (by sid) before it
        /// starts; `log` receives every line (nil: silent, or printed with ENSEMBLE_LOG).
        static func start(participants: Int = 3, observers: Int = 0, readOnlyMode: Bool = false,
                          configure: (@Sendable (Int64, inout ServerConfiguration) -> Void)? = nil,
                          log: (@Sendable (Int64, ServerLog.Level, String) -> Void)? = nil) async throws -> Members {
            let printing = ProcessInfo.processInfo.environment["ENSEMBLE_LOG"] != nil
            let ensemble = try await EmbeddedEnsemble.start(
                participants: participants, observers: observers, configuration: Self.baseConfiguration, inMemory: true,
                configure: { sid, configuration in
                    configuration.readOnlyModeEnabled = readOnlyMode
                    configuration.localSessionsEnabled = readOnlyMode  // new sessions on a read-only member
                    configure?(sid, &configuration)
                },
                log: { sid in
                    if let log { return ServerLog { level, message in log(sid, level, message) } }
                    return printing ? ServerLog { level, message in print("[\(sid)] \(level) \(message)") } : .silent
                })
            return Members(ensemble)
        }

        static var baseConfiguration: ServerConfiguration {
            var configuration = ServerConfiguration()
            configuration.tickTime = 100
            configuration.initLimit = 10
            configuration.syncLimit = 5
            configuration.fourLetterWordWhitelist = ["*"]
            return configuration
        }

        func start(_ sid: Int64) async throws { try await ensemble.start(member: sid) }

        func stop(_ sid: Int64) async { await ensemble.stop(member: sid) }

        func stopAll() async { await ensemble.stop() }

        func port(_ sid: Int64) -> Int { configurations[sid]!.clientPort }

        /// `srvr`'s `Mode:` value, nil when the member does not answer or does not serve.
        func mode(_ sid: Int64) -> String? { serverMode(port: port(sid)) }

        /// Waits until one member leads and the other running members follow (or observe); returns the leader's id.
        func settled(within timeout: Duration = .seconds(20)) async throws -> Int64 {
            let running = configurations.keys.filter { ensemble.member($0) != nil }
            var leader: Int64 = 0
            try await eventually(within: timeout) {
                let modes = running.map { mode($0) }
                guard modes.allSatisfy({ $0 == "leader" || $0 == "follower" || $0 == "observer" }), modes.count(where: { $0 == "leader" }) == 1 else { return false }
                leader = running[modes.firstIndex(of: "leader")!]
                return true
            }
            return leader
        }

        func client(_ sids: [Int64], sessionTimeout: Duration = .seconds(2)) async throws -> ZooKeeperClient {
            try await client(ports: sids.map { port($0) }, sessionTimeout: sessionTimeout)
        }

        func client(ports: [Int], sessionTimeout: Duration = .seconds(2)) async throws -> ZooKeeperClient {
            var configuration = ZooKeeperConfiguration(servers: ports.map { ServerAddress(host: "127.0.0.1", port: $0) })
            configuration.sessionTimeout = sessionTimeout
            configuration.shuffleServers = false
            return try await ZooKeeperClient.connect(configuration)
        }
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Creates `path`; true once it exists (a create lost with the connection may have been applied).
    static func created(_ path: ZNodePath, by client: ZooKeeperClient) async -> Bool {
        do {
            try await client.create(path)
            return true
        } catch let error as ZooKeeperError {
            return error.code == .nodeExists
        } catch {
            return false
        }
    }

    @Test func everyMemberServesOneTree() async throws {
        let members = try await Members.start()
        do {
            let leader = try await members.settled()
            let followers = [Int64(1), 2, 3].filter { $0 != leader }
            let onFollower = try await members.client([followers[0]])
            let onOther = try await members.client([followers[1]])
            let onLeader = try await members.client([leader])

            try await onFollower.create("/a", data: Self.bytes("1"))
            _ = try await onOther.sync("/a")
            #expect(try await onOther.getData("/a").data == Self.bytes("1"), "a write forwarded by one follower, read on another after sync")
            _ = try await onLeader.setData("/a", data: Self.bytes("2"))
            _ = try await onFollower.sync("/a")
            #expect(try await onFollower.getData("/a").data == Self.bytes("2"))
            #expect(try await onFollower.getData("/a").stat.version == 1)
            await #expect(throws: ZooKeeperError.self, "a failed write comes back as its error") { try await onOther.create("/a") }
            let sequential = try await onOther.create("/s-", mode: .persistentSequential)
            #expect(sequential == "/s-0000000001", "the root's cversion counts /a")

            let monitor = try sendFourLetterWord("mntr", host: "127.0.0.1", port: members.port(leader), timeout: .seconds(2))
            #expect(monitor.contains("zk_server_state\tleader\n"))
            #expect(monitor.contains("zk_synced_followers\t2\n"))
            #expect(monitor.contains("zk_peer_state\tleading - broadcast\n"))
            for client in [onFollower, onOther, onLeader] { await client.close() }
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }

    @Test func watchesFireOnEveryMember() async throws {
        let members = try await Members.start()
        do {
            _ = try await members.settled()
            let clients = [try await members.client([1]), try await members.client([2]), try await members.client([3])]
            try await clients[0].create("/w", data: Self.bytes("0"))
            var watches: [OneShotWatch] = []
            for client in clients {
                _ = try await client.sync("/w")
                watches.append(try await client.getDataWatching("/w").watch)
            }
            _ = try await clients[1].setData("/w", data: Self.bytes("1"))
            for (index, watch) in watches.enumerated() {
                let event = try await withTimeout(.seconds(5)) { try await watch.event() }
                #expect(event.type == .nodeDataChanged, "member \(index + 1)'s client")
                #expect(try await clients[index].getData("/w").data == Self.bytes("1"), "after the event, member \(index + 1) serves the new data")
            }
            for client in clients { await client.close() }
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }

    /// A session on a follower stays alive while its client pings (the follower reports it to the leader);
    /// a session whose client vanishes is expired by the leader and its ephemeral goes everywhere.
    @Test func theLeaderExpiresSessionsFollowersHost() async throws {
        let members = try await Members.start()
        do {
            let leader = try await members.settled()
            let follower = [Int64(1), 2, 3].first { $0 != leader }!
            let alive = try await members.client([follower], sessionTimeout: .milliseconds(600))
            try await alive.create("/alive", mode: .ephemeral)

            let vanishing = try RawConnection(port: members.port(follower))
            // Long enough for the observer below to connect and look first on a loaded machine.
            _ = try vanishing.handshake(timeoutMilliseconds: 1500)
            var request = JuteWriter()
            request.write(RequestHeader(xid: 1, type: OpCode.create.rawValue))
            request.write(CreateRequest(path: "/vanishing", data: [], acl: .openACLUnsafe, flags: 1))
            try vanishing.writeFrame(request.bytes)
            guard case let .frame(reply) = try vanishing.readFrame() else { throw TestSupportError("no reply to create") }
            #expect(RawConnection.replyError(reply) == 0)

            let observer = try await members.client([leader])
            #expect(try await observer.exists("/vanishing") != nil)
            // The raw client never pings: its session ends on the leader, and with it the node.
            try await eventually(within: .seconds(10)) { try await observer.exists("/vanishing") == nil }
            #expect(try await observer.exists("/alive") != nil, "a pinging client's session outlives several timeouts")
            withExtendedLifetime(vanishing) {}
            await alive.close()
            await observer.close()
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }

    /// An observer member: synchronised and kept up to date by INFORM, it serves clients (writes forwarded)
    /// and never votes: the leader counts two synced followers and three learners.
    @Test func anObserverServesClientsWithoutVoting() async throws {
        let members = try await Members.start(observers: 1)
        do {
            let leader = try await members.settled()
            #expect(members.mode(4) == "observer")
            let onObserver = try await members.client([4])
            let onLeader = try await members.client([leader])
            let watch = try await onObserver.existsWatching("/seen").watch
            try await onLeader.create("/seen", data: Self.bytes("x"))
            #expect(try await withTimeout(.seconds(5)) { try await watch.event() }.type == .nodeCreated)
            try await onObserver.create("/from-observer")
            _ = try await onLeader.sync("/from-observer")
            #expect(try await onLeader.exists("/from-observer") != nil)
            let monitor = try sendFourLetterWord("mntr", host: "127.0.0.1", port: members.port(leader), timeout: .seconds(2))
            #expect(monitor.contains("zk_learners\t3\n") && monitor.contains("zk_synced_followers\t2\n"), "\(monitor)")
            let observerMonitor = try sendFourLetterWord("mntr", host: "127.0.0.1", port: members.port(4), timeout: .seconds(2))
            #expect(observerMonitor.contains("zk_peer_state\tobserving - broadcast\n"))
            await onObserver.close()
            await onLeader.close()
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }

    /// A client that takes a session over pipelines closeSession right behind its handshake: the member holds
    /// the request until the leader has revalidated the session (Apache stops reading the connection), then
    /// closes the session everywhere.
    @Test func requestsPipelinedBehindARevalidationWait() async throws {
        let members = try await Members.start()
        do {
            let leader = try await members.settled()
            let follower = [Int64(1), 2, 3].first { $0 != leader }!
            let victim = try await members.client([follower])
            try await victim.create("/victim", mode: .ephemeral)
            let session = try #require(victim.session)
            try SessionTakeover.expire(session, port: members.port(follower))
            let observer = try await members.client([leader])
            try await eventually(within: .seconds(5)) { try await observer.exists("/victim") == nil }
            await victim.close()
            await observer.close()
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }

    /// A session that moved to another member: a write still sent through its old member is refused
    /// (Apache's `checkSession`), so it cannot land after the session's writes through the new one. The refusal,
    /// SESSIONMOVED, ends the old connection unanswered, as Apache's FinalRequestProcessor does (ZOOKEEPER-710).
    @Test func aWriteThroughTheSessionsOldMemberIsRefused() async throws {
        let members = try await Members.start()
        do {
            let leader = try await members.settled()
            let followers = [Int64(1), 2, 3].filter { $0 != leader }
            let old = try RawConnection(port: members.port(followers[0]))
            try old.writeFrame(RawConnection.connectRequest(timeoutMilliseconds: 4000))
            guard case let .frame(response) = try old.readFrame() else { throw TestSupportError("no ConnectResponse") }
            var reader = JuteReader(response)
            _ = try reader.readInt32()
            let timeout = try reader.readInt32()
            let session = try reader.readInt64()
            let password = try reader.readBuffer()
            #expect(timeout == 2000)  // 20 ticks of 100 ms at most

            // The session moves to the other follower (REVALIDATE makes that member its owner).
            let new = try RawConnection(port: members.port(followers[1]))
            var connect = JuteWriter()
            connect.write(Int32(0))
            connect.write(Int64(0))
            connect.write(Int32(4000))
            connect.write(session)
            connect.writeBuffer(password)
            try new.writeFrame(connect.bytes)
            guard case let .frame(moved) = try new.readFrame() else { throw TestSupportError("no ConnectResponse on the new member") }
            var movedReader = JuteReader(moved)
            _ = try movedReader.readInt32()
            #expect(try movedReader.readInt32() > 0, "the session is valid on the new member")

            var create = JuteWriter()
            create.write(RequestHeader(xid: 1, type: OpCode.create.rawValue))
            create.write(CreateRequest(path: "/late", data: [], acl: .openACLUnsafe, flags: 0))
            try old.writeFrame(create.bytes)
            #expect(try old.readFrame() == .closed, "refused: the old member closes the connection without an answer")
            // The next xid, as a real client's (members match commits to requests by session and cxid).
            var again = JuteWriter()
            again.write(RequestHeader(xid: 2, type: OpCode.create.rawValue))
            again.write(CreateRequest(path: "/late", data: [], acl: .openACLUnsafe, flags: 0))
            try new.writeFrame(again.bytes)
            guard case let .frame(accepted) = try new.readFrame() else { throw TestSupportError("no reply on the new member") }
            #expect(RawConnection.replyError(accepted) == 0, "the same write through the session's member succeeds")
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }

    /// The leader counts the session as another member's while its client stays where it was: a takeover's
    /// REVALIDATE reached the leader after the client's own (an Apache member closes the old connection before it
    /// revalidates, so the two race). The client's next write must not be refused for as long as it stays: its
    /// connection closes, it reconnects, its REVALIDATE makes its member the owner again, and a retry succeeds.
    /// Answering SESSIONMOVED instead kept a queue's take retrying its multi forever (ZOOKEEPER-2886).
    @Test func aClientWhoseSessionTheLeaderGaveToAnotherMemberRecovers() async throws {
        let members = try await Members.start()
        do {
            let leader = try await members.settled()
            let followers = [Int64(1), 2, 3].filter { $0 != leader }
            let client = try await members.client([followers[0]])
            try await client.create("/moved")
            // The takeover's REVALIDATE goes last: the leader now counts followers[1] as the session's member.
            try await Self.expectClosedAfterTakeover(of: client, through: members.port(followers[1]), "a write through the session's old member") {
                try await client.setData("/moved", data: Self.bytes("1"))
            }
            try await client.setData("/moved", data: Self.bytes("2"))
            #expect(try await client.getData("/moved").data == Self.bytes("2"))
            await client.close()
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }

    /// A client on the leader whose session a takeover revalidated on a follower: Apache's leader checks the
    /// owner of its own clients' reads too (`checkSession` in prep), so the client's next read closes its
    /// connection unanswered; the client reconnects, its REVALIDATE makes the leader the owner again, and it
    /// reads on. Before: the leader answered the moved session's reads for as long as it stayed.
    @Test func aReadOnTheLeaderOfASessionAnotherMemberServesClosesTheConnection() async throws {
        let members = try await Members.start()
        do {
            let leader = try await members.settled()
            let follower = try #require([Int64(1), 2, 3].first { $0 != leader })
            let client = try await members.client([leader])
            try await client.create("/moved-read", data: Self.bytes("a"))
            try await Self.expectClosedAfterTakeover(of: client, through: members.port(follower), "a read on the leader") {
                _ = try await client.getData("/moved-read")
            }
            #expect(try await client.getData("/moved-read").data == Self.bytes("a"))
            await client.close()
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }

    /// The member a client uses goes away: the client moves to another with the same session (REVALIDATE),
    /// keeps its ephemeral, and carries on — also when the member that went was the leader.
    @Test func clientsMoveWhenTheirMemberGoes() async throws {
        let members = try await Members.start()
        do {
            let leader = try await members.settled()
            let follower = [Int64(1), 2, 3].first { $0 != leader }!
            let other = [Int64(1), 2, 3].first { $0 != leader && $0 != follower }!
            let client = try await members.client([follower, other], sessionTimeout: .seconds(3))
            try await client.create("/mine", mode: .ephemeral)
            let session = client.session?.id

            await members.stop(follower)
            // A request in flight when the member went fails with connection loss (as with Apache); the
            // client reconnects on its own.
            try await eventually(within: .seconds(10)) { (try? await client.sync("/mine")) != nil }
            #expect(client.session?.id == session, "the same session on another member")
            #expect(try await client.exists("/mine") != nil)

            // Now the leader goes: the remaining member cannot lead alone, so bring the follower back first.
            try await members.start(follower)
            _ = try await members.settled()
            await members.stop(leader)
            let newLeader = try await members.settled()
            #expect(newLeader != leader)
            try await eventually(within: .seconds(10)) { await Self.created("/after-failover", by: client) }
            #expect(try await client.exists("/mine") != nil, "the session survived the failover")
            await client.close()
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }
}
