import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

@Suite struct ACLTests {
    let alice = Id.digest(user: "alice", password: "secret")
    let bob = Id.digest(user: "bob", password: "pw")
    let localhost = Id(scheme: "ip", id: "127.0.0.1")

    @Test func permissionsAreCheckedWhereApacheChecksThem() throws {
        var h = DatabaseHarness()
        h.create("/p", acl: [ACL(perms: [.read], id: .anyone), ACL(perms: .all, id: alice)], ids: [alice])
        h.create("/p/c", ids: [alice])
        #expect(h.create("/p/x").err == .noAuth)                        // CREATE on the parent
        #expect(h.delete("/p/c").err == .noAuth)                        // DELETE on the parent
        #expect(h.delete("/p/c", ids: [alice]).err == .ok)
        #expect(h.setData("/p", "x").err == .noAuth)                    // WRITE
        #expect(h.getData("/p").0 == .ok)                               // READ via world
        #expect(h.send(.setACL, SetACLRequest(path: "/p", acl: .openACLUnsafe, version: -1)).err == .noAuth)  // ADMIN
        #expect(h.setData("/p", "x", ids: [Id(scheme: "super", id: "")]).err == .ok)  // super bypasses
        h.create("/secret", acl: [ACL(perms: .all, id: alice)], ids: [alice])
        #expect(h.getData("/secret").0 == .noAuth)
        #expect(h.children("/secret") == nil)
        #expect(h.send(.exists, ExistsRequest(path: "/secret", watch: false)).err == .ok)  // none (3.8.0)
        #expect(h.send(.exists, ExistsRequest(path: "/secret", watch: false), ids: [alice]).err == .ok)
        let check = h.send(.multi, MultiOperationRecord(ops: [.check(CheckVersionRequest(path: "/secret", version: -1))]))
        #expect(try MultiResponse(juteBytes: check.response).results == [.error(.noAuth)])  // READ
    }

    @Test func getACLNeedsReadOrAdminAndMasksDigestsWithoutAdmin() throws {
        var h = DatabaseHarness()
        let acl = [ACL(perms: .read, id: .anyone), ACL(perms: .all, id: alice)]
        h.create("/n", acl: acl, ids: [alice])
        let masked = try GetACLResponse(juteBytes: h.send(.getACL, GetACLRequest(path: "/n")).response)
        #expect(masked.acl == [ACL(perms: .read, id: .anyone), ACL(perms: .all, id: Id(scheme: "digest", id: "alice:x"))])
        let full = try GetACLResponse(juteBytes: h.send(.getACL, GetACLRequest(path: "/n"), ids: [alice]).response)
        #expect(full.acl == acl)
        h.create("/w", acl: [ACL(perms: .write, id: .anyone)])
        #expect(h.send(.getACL, GetACLRequest(path: "/w")).err == .noAuth)
        #expect(h.send(.getACL, GetACLRequest(path: "/nope")).err == .noNode)
    }

    @Test func authSchemeExpandsToDigestIds() throws {
        var h = DatabaseHarness()
        #expect(h.create("/a", acl: .creatorAllACL).err == .invalidACL)
        #expect(h.create("/a", acl: .creatorAllACL, ids: [localhost]).err == .invalidACL)  // ip does not authenticate
        #expect(h.create("/a", acl: .creatorAllACL, ids: [localhost, alice, bob]).err == .ok)
        #expect(h.db.tree.node("/a")?.acl == [ACL(perms: .all, id: alice), ACL(perms: .all, id: bob)])
        // Duplicates are removed before validation.
        h.create("/d", acl: [ACL(perms: .read, id: .anyone), ACL(perms: .read, id: .anyone)])
        #expect(h.db.tree.node("/d")?.acl == .readACLUnsafe)
    }

    @Test func invalidACLs() {
        var h = DatabaseHarness()
        for bad in [Id(scheme: "digest", id: "nocolon"), Id(scheme: "digest", id: "a:b:c"), Id(scheme: "ip", id: "1.2.3"),
                    Id(scheme: "ip", id: "10.0.0.0/33"), Id(scheme: "world", id: "someone"), Id(scheme: "super", id: "")] {
            #expect(h.create("/x", acl: [ACL(perms: .all, id: bad)]).err == .invalidACL, "\(bad)")
        }
        #expect(h.send(.setACL, SetACLRequest(path: "/zookeeper", acl: [], version: -1)).err == .invalidACL)
    }

    @Test func ipAndCIDRMatching() {
        #expect(ACLPolicy.ipMatches(address: "10.1.2.3", aclExpr: "10.1.0.0/16"))
        #expect(!ACLPolicy.ipMatches(address: "10.2.2.3", aclExpr: "10.1.0.0/16"))
        #expect(ACLPolicy.ipMatches(address: "192.168.1.200", aclExpr: "192.168.1.128/25"))
        #expect(!ACLPolicy.ipMatches(address: "192.168.1.100", aclExpr: "192.168.1.128/25"))
        #expect(ACLPolicy.ipMatches(address: "1.2.3.4", aclExpr: "0.0.0.0/0"))
        #expect(ACLPolicy.ipMatches(address: "127.0.0.1", aclExpr: "127.0.0.1"))
        #expect(!ACLPolicy.ipMatches(address: "::1", aclExpr: "127.0.0.1"))
        var h = DatabaseHarness()
        h.create("/lan", acl: [ACL(perms: .all, id: Id(scheme: "ip", id: "127.0.0.0/8"))])
        #expect(h.getData("/lan", ids: [localhost]).0 == .ok)
        #expect(h.getData("/lan", ids: [Id(scheme: "ip", id: "10.0.0.1")]).0 == .noAuth)
    }

    @Test func setACLBumpsAversionAndChecksIt() throws {
        var h = DatabaseHarness()
        h.create("/a")
        #expect(h.send(.setACL, SetACLRequest(path: "/a", acl: .readACLUnsafe, version: 3)).err == .badVersion)
        let ok = h.send(.setACL, SetACLRequest(path: "/a", acl: .readACLUnsafe, version: 0))
        #expect(try SetACLResponse(juteBytes: ok.response).stat.aversion == 1)
        #expect(h.db.tree.node("/a")?.acl == .readACLUnsafe)
    }

    @Test func whoAmIReportsUsers() throws {
        var h = DatabaseHarness()
        let r = h.send(.whoAmI, bytes: [], ids: [localhost, alice, Id(scheme: "super", id: "")])
        #expect(try WhoAmIResponse(juteBytes: r.response).clientInfo == [
            ClientInfo(authScheme: "ip", user: "127.0.0.1"), ClientInfo(authScheme: "digest", user: "alice"),
            ClientInfo(authScheme: "super", user: ""),
        ])
    }
}
