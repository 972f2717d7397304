import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

@Suite("ACLs and authentication", .enabled(if: integrationEnabled, integrationSkipReason), .timeLimit(.minutes(1)))
struct ACLTests {
    static let user = "alice"
    static let password = "s3cret:with:colons"
    static var credentials: [UInt8] { bytes("\(user):\(password)") }

    @Test("a digest ACL rejects other sessions until they addAuth")
    func digestACL() async throws {
        try await withTestClient("acl-digest") { zk, context in
            try await zk.addAuth(scheme: "digest", auth: Self.credentials)
            try await zk.create("/d", data: bytes("secret"),
                                acl: [.digest(user: Self.user, password: Self.password, perms: .all)])
            try await zk.create("/d/kid")
            try await withOtherClient(context) { other in
                #expect(await zkErrorCode { _ = try await other.getData("/d") } == .noAuth)
                #expect(await zkErrorCode { _ = try await other.setData("/d", data: []) } == .noAuth)
                #expect(await zkErrorCode { try await other.create("/d/new") } == .noAuth)
                #expect(await zkErrorCode { try await other.delete("/d/kid") } == .noAuth)
                #expect(await zkErrorCode { _ = try await other.getChildren("/d") } == .noAuth)
                // exists needs no permission (Apache 3.8.0): existence and the Stat are public.
                #expect(try await other.exists("/d") != nil)

                // Wrong credentials are accepted as an identity but grant nothing.
                try await other.addAuth(scheme: "digest", auth: bytes("\(Self.user):wrong"))
                #expect(await zkErrorCode { _ = try await other.getData("/d") } == .noAuth)

                try await other.addAuth(scheme: "digest", auth: Self.credentials)
                #expect(try await other.getData("/d").data == bytes("secret"))
                try await other.setData("/d", data: bytes("changed"))
                try await other.create("/d/new")
                try await other.delete("/d/kid")
                #expect(try await other.getChildren("/d") == ["new"])
                #expect(other.connectionState == .connected)
            }
        }
    }

    @Test("creatorAllACL binds to the session's digest identity; getACL masks it without ADMIN")
    func creatorAllAndMasking() async throws {
        try await withTestClient("acl-creator") { zk, context in
            // Without any authenticated identity (ip does not count) the server rejects `auth:`.
            #expect(await zkErrorCode { try await zk.create("/early", acl: .creatorAllACL) } == .invalidACL)

            try await zk.addAuth(scheme: "digest", auth: Self.credentials)
            try await zk.create("/c", acl: .creatorAllACL)
            let digest = Id.digest(user: Self.user, password: Self.password)
            let (acl, stat) = try await zk.getACL("/c")
            #expect(acl == [ACL(perms: .all, id: digest)])
            #expect(digest.id.hasPrefix("\(Self.user):") && digest.id.count > Self.user.count + 20)
            #expect(stat.aversion == 0)

            // A node readable by anyone but administrable only by the digest id.
            try await zk.create("/masked", acl: [.world(.read), .digest(user: Self.user, password: Self.password, perms: .all)])
            try await withOtherClient(context) { other in
                // No permission at all: getACL needs READ or ADMIN.
                #expect(await zkErrorCode { _ = try await other.getACL("/c") } == .noAuth)
                // READ without ADMIN: digest ids come back as `user:x` (FinalRequestProcessor getACL).
                let seen = try await other.getACL("/masked").acl
                #expect(seen == [.world(.read), ACL(perms: .all, id: Id(scheme: "digest", id: "\(Self.user):x"))])
                try await other.addAuth(scheme: "digest", auth: Self.credentials)
                #expect(try await other.getACL("/masked").acl
                    == [.world(.read), .digest(user: Self.user, password: Self.password, perms: .all)])
            }
        }
    }

    @Test("a world read-only ACL rejects writes with noAuth")
    func readOnlyACL() async throws {
        try await withTestClient("acl-read") { zk, _ in
            try await zk.create("/ro", data: bytes("v"), acl: .readACLUnsafe)
            #expect(try await zk.getData("/ro").data == bytes("v"))
            #expect(try await zk.getChildren("/ro").isEmpty)
            #expect(await zkErrorCode { _ = try await zk.setData("/ro", data: []) } == .noAuth)
            #expect(await zkErrorCode { try await zk.create("/ro/kid") } == .noAuth)
            #expect(await zkErrorCode { _ = try await zk.setACL("/ro", acl: .openACLUnsafe) } == .noAuth)
            // Deleting the node itself needs DELETE on the parent, which is open.
            try await zk.delete("/ro")
        }
    }

    @Test("an ip ACL for 127.0.0.1 admits a loopback client, another address does not")
    func ipACL() async throws {
        try await withTestClient("acl-ip") { zk, _ in
            try await zk.create("/lo", data: bytes("ok"), acl: [.ip("127.0.0.1", perms: .all)])
            #expect(try await zk.getData("/lo").data == bytes("ok"))
            try await zk.setData("/lo", data: bytes("ok2"))
            try await zk.create("/lo/kid")
            try await zk.create("/net", acl: [.ip("127.0.0.0/8", perms: .read)])
            _ = try await zk.getData("/net")
            try await zk.create("/far", acl: [.ip("10.1.2.3", perms: .all)])
            #expect(await zkErrorCode { _ = try await zk.getData("/far") } == .noAuth)
        }
    }

    @Test("setACL checks the ACL version")
    func setACLVersion() async throws {
        try await withTestClient("acl-version") { zk, _ in
            try await zk.create("/v")
            #expect(await zkErrorCode { _ = try await zk.setACL("/v", acl: .readACLUnsafe, version: 3) } == .badVersion)
            let stat = try await zk.setACL("/v", acl: .openACLUnsafe + .readACLUnsafe, version: 0)
            #expect(stat.aversion == 1 && stat.version == 0)
            #expect(await zkErrorCode { _ = try await zk.setACL("/v", acl: .openACLUnsafe, version: 0) } == .badVersion)
            #expect(try await zk.getACL("/v").acl == .openACLUnsafe + .readACLUnsafe)
            #expect(await zkErrorCode { _ = try await zk.setACL("/missing", acl: .openACLUnsafe) } == .noNode)
        }
    }

    @Test("addAuth with an unknown scheme ends the session with authFailed")
    func unknownScheme() async throws {
        try await withTestClient("acl-badscheme") { _, context in
            try await withOtherClient(context) { other in
                let states = other.connectionStates()
                let outcome = await zkErrorCode {
                    try await withTimeout(.seconds(10)) { try await other.addAuth(scheme: "no-such-scheme", auth: bytes("x")) }
                }
                #expect(outcome == .authFailed)
                let lost = try await withTimeout(.seconds(10)) { () async -> ConnectionState? in
                    for await state in states { if case .lost = state { return state } }
                    return nil
                }
                #expect(lost == .lost(.authFailed))
                #expect(other.connectionState == .lost(.authFailed))
                #expect(await zkErrorCode { _ = try await other.exists("/") } == .authFailed)
                #expect(await zkErrorCode { try await other.addAuth(scheme: "digest", auth: Self.credentials) } == .authFailed)
            }
        }
    }

    @Test("whoAmI lists the digest identity after addAuth")
    func whoAmI() async throws {
        try await withTestClient("acl-whoami") { zk, _ in
            let before = try await zk.whoAmI()
            #expect(before == [ClientInfo(authScheme: "ip", user: "127.0.0.1")])
            try await zk.addAuth(scheme: "digest", auth: Self.credentials)
            let after = try await zk.whoAmI()
            // The server reports DigestAuthenticationProvider.getUserName: the user part only.
            #expect(after.contains(ClientInfo(authScheme: "digest", user: Self.user)))
            #expect(after.contains(ClientInfo(authScheme: "ip", user: "127.0.0.1")))
            #expect(after.count == 2)
        }
    }

    @Test("credentials in the configuration are sent at connect, before any request")
    func configuredAuthentication() async throws {
        try await withTestClient("acl-config") { zk, context in
            try await zk.addAuth(scheme: "digest", auth: Self.credentials)
            try await zk.create("/d", data: bytes("x"), acl: [.digest(user: Self.user, password: Self.password, perms: .all)])
            try await withOtherClient(context, { $0.authentication = [.digest(user: Self.user, password: Self.password)] }) { other in
                // The very first request already runs with the identity.
                #expect(try await other.getData("/d").data == bytes("x"))
                #expect(try await other.whoAmI().contains(ClientInfo(authScheme: "digest", user: Self.user)))
                try await other.create("/mine", acl: .creatorAllACL)
                #expect(try await other.getACL("/mine").acl == [ACL(perms: .all, id: .digest(user: Self.user, password: Self.password))])
            }
            try await withOtherClient(context, { $0.authentication = [.digest(user: Self.user, password: "nope")] }) { other in
                #expect(await zkErrorCode { _ = try await other.getData("/d") } == .noAuth)
            }
        }
    }
}
