import Testing
@testable import ZooKeeperServer

/// The leader's table of which member serves each session (Apache's session owner and `checkSession`).
@Suite struct SessionOwnersTests {
    @Test func aSessionIsServedByTheMemberItWasCreatedThrough() {
        var owners = SessionOwners(leader: 3)
        owners.created(0x100, through: 1)
        #expect(owners.owner(of: 0x100) == 1)
        let fromOwner = owners.isMoved(0x100, writingThrough: 1)
        let fromOther = owners.isMoved(0x100, writingThrough: 2)
        let fromLeader = owners.isMoved(0x100, writingThrough: 3)
        #expect(!fromOwner)
        #expect(fromOther, "a write from a member that does not serve it")
        #expect(fromLeader, "the leader's own client side included")
        #expect(owners.owner(of: 0x100) == 1, "a refused write takes nothing")
    }

    @Test func aSessionFromAnEarlierEpochBelongsToTheFirstMemberToWriteWithIt() {
        var owners = SessionOwners(leader: 3)
        #expect(owners.owner(of: 0x200) == nil)
        let first = owners.isMoved(0x200, writingThrough: 2)
        #expect(!first)
        #expect(owners.owner(of: 0x200) == 2)
        let second = owners.isMoved(0x200, writingThrough: 1)
        #expect(second)
    }

    @Test func aRevalidationMovesTheSessionAndReportsOnlyWhatItTakesFromTheLeader() {
        var owners = SessionOwners(leader: 3)
        owners.created(0x300, through: 1)
        let betweenFollowers = owners.revalidated(0x300, at: 2)
        #expect(!betweenFollowers, "from one follower to another: not the leader's concern")
        #expect(owners.owner(of: 0x300) == 2)
        let lateWrite = owners.isMoved(0x300, writingThrough: 1)
        #expect(lateWrite, "the old member's late writes are refused")

        let toLeader = owners.revalidated(0x300, at: 3)
        let fromLeader = owners.revalidated(0x300, at: 1)
        let again = owners.revalidated(0x300, at: 1)
        let unused = owners.revalidated(0x301, at: 2)
        #expect(!toLeader)
        #expect(fromLeader, "taken from the leader's own clients")
        #expect(!again, "reported once")
        #expect(!unused, "a session nobody used yet")
    }

    @Test func aClosedSessionIsForgotten() {
        var owners = SessionOwners(leader: 3)
        owners.created(0x400, through: 3)
        owners.closed(0x400)
        #expect(owners.owner(of: 0x400) == nil)
        let revalidated = owners.revalidated(0x400, at: 1)
        #expect(!revalidated, "no longer the leader's")
    }
}
