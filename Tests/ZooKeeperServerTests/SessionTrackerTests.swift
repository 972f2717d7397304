import Foundation
import Testing
@testable import ZooKeeperServer

@Suite("Session tracker: expiry buckets by tick")
struct SessionTrackerTests {
    @Test("sessions expire at the tick boundary after their timeout, once; touching extends them")
    func expiry() {
        var tracker = SessionTracker(tickTime: 100, now: 1_700_000_000_000)
        let a = tracker.allocateSessionID()
        let b = tracker.allocateSessionID()
        #expect(b == a + 1)
        tracker.add(id: a, timeout: 1000, now: 0)
        tracker.add(id: b, timeout: 1000, now: 0)
        #expect(tracker.sessions[a]?.expiresAt == 1100)  // rounded up to the next tick
        let early = tracker.expired(now: 1099)
        #expect(early.isEmpty)
        let touched = tracker.touch(b, now: 500)
        #expect(touched)
        let due = tracker.expired(now: 1100)
        #expect(due == [a])
        let again = tracker.expired(now: 1100)
        #expect(again.isEmpty)  // reported once
        let revived = tracker.touch(a, now: 1100)
        #expect(!revived)  // closing sessions cannot be revived
        let later = tracker.expired(now: 1600)
        #expect(later == [b])
        tracker.remove(a)
        tracker.remove(b)
        #expect(tracker.sessions.isEmpty && tracker.nextExpiry == nil)
    }

    @Test("session ids carry the server id in the high byte and never repeat after recovery")
    func ids() {
        var tracker = SessionTracker(tickTime: 2000, serverID: 1, now: 1_700_000_000_000)
        let first = tracker.allocateSessionID()
        #expect(first >> 56 == 1)
        tracker.add(id: first + 10, timeout: 4000, now: 0)  // a recovered session
        let next = tracker.allocateSessionID()
        #expect(next == first + 11)
    }
}

@Suite("zoo.cfg parsing")
struct ZooCfgParserTests {
    @Test("server.N lines make an ensemble; one participant stays standalone, as Apache's standaloneEnabled")
    func ensembleLines() throws {
        let three = try ZooCfgParser.parse("server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890;2183\nelectionAlg=3")
        #expect(three.isEnsemble && three.quorum?.votingMembers == [1, 2, 3])
        #expect(three.quorum?.servers[3]?.clientPort == 2183)
        let one = try ZooCfgParser.parse("server.1=127.0.0.1:2888:3888")
        #expect(!one.isEnsemble && one.quorum != nil)
        #expect(try ZooCfgParser.parse("tickTime=100").quorum == nil)
    }

    @Test("the file's text is kept for the admin server's initial_configuration")
    func keepsTheText() throws {
        let text = "tickTime=100\n# a comment\nclientPort=2181\n"
        #expect(try ZooCfgParser.parse(text).configuration.initialConfiguration == text)
    }

    @Test("ensemble keys are read for an ensemble and reported as ignored for a standalone server")
    func ensembleKeys() throws {
        let member = try ZooCfgParser.parse("""
            initLimit=7
            syncLimit=3
            quorumListenOnAllIPs=true
            znode.container.checkIntervalMs=250
            server.1=127.0.0.1:2888:3888
            server.2=127.0.0.1:2889:3889
            server.3=127.0.0.1:2890:3890
            """)
        #expect(member.configuration.isEnsemble && member.configuration.initLimit == 7 && member.configuration.syncLimit == 3)
        #expect(member.configuration.quorumListenOnAllIPs && member.configuration.containerCheckInterval == 250)
        #expect(member.ignoredKeys.isEmpty)
        let standalone = try ZooCfgParser.parse("initLimit=7\nsyncLimit=3")
        #expect(standalone.ignoredKeys == ["initLimit", "syncLimit"])
        #expect { _ = try ZooCfgParser.parse("reconfigEnabled=true") } throws: { error in
            (error as? ZooCfgParser.ParseError)?.key == "reconfigEnabled"
        }
    }

    @Test("the repository's docker zoo.cfg files parse (the compose ensemble's is a 3-member ensemble)")
    func dockerConfigurations() throws {
        let docker = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docker")
        let standalone = try ZooCfgParser.parse(try String(contentsOf: docker.appendingPathComponent("zoo.cfg"), encoding: .utf8))
        #expect(!standalone.isEnsemble)
        let ensemble = try ZooCfgParser.parse(try String(contentsOf: docker.appendingPathComponent("zoo-ensemble.cfg"), encoding: .utf8))
        #expect(ensemble.isEnsemble && ensemble.quorum?.servers[2]?.clientPort == 2181)
    }

    @Test("Apache's keys and defaults")
    func parses() throws {
        let result = try ZooCfgParser.parse("""
            # comment
            tickTime=500
            dataDir=/var/zk
            dataLogDir = /var/zk-log
            clientPort=2182
            maxClientCnxns=10
            minSessionTimeout=1000
            maxSessionTimeout=9000
            snapCount=1000
            autopurge.snapRetainCount=5
            autopurge.purgeInterval=1
            4lw.commands.whitelist=ruok, srvr ,mntr
            extendedTypesEnabled=true
            initLimit=10
            server.1=localhost:2888:3888
            """)
        let configuration = result.configuration
        #expect(configuration.tickTime == 500 && configuration.clientPort == 2182)
        #expect(configuration.dataDirectory == "/var/zk" && configuration.dataLogDirectory == "/var/zk-log")
        #expect(configuration.effectiveMinSessionTimeout == 1000 && configuration.effectiveMaxSessionTimeout == 9000)
        #expect(configuration.fourLetterWordWhitelist == ["ruok", "srvr", "mntr"])
        #expect(configuration.extendedTypesEnabled && configuration.snapRetainCount == 5)
        #expect(result.ignoredKeys == ["initLimit"] && result.quorum?.votingMembers == [1] && !result.isEnsemble)
        #expect(ServerConfiguration().effectiveMaxSessionTimeout == 40_000)
    }

    @Test("unknown keys and invalid values name the key", arguments: [
        ("tickTme=2000", "tickTme"), ("clientPort=70000", "clientPort"), ("tickTime=abc", "tickTime"),
        ("extendedTypesEnabled=maybe", "extendedTypesEnabled"), ("justtext", "justtext"),
        ("minSessionTimeout=5000\nmaxSessionTimeout=1000", "minSessionTimeout"),
        ("server.1=127.0.0.1:2888", "server.1"),
        ("server.x=127.0.0.1:2888:3888", "server.x"),
        ("electionAlg=1", "electionAlg"),
        ("server.4=127.0.0.1:2888:3888:observer", "server.N"),  // observers only: no voting member
    ])
    func rejects(_ text: String, key: String) {
        #expect { _ = try ZooCfgParser.parse(text) } throws: { error in
            (error as? ZooCfgParser.ParseError)?.key == key && "\(error)".contains(key)
        }
    }
}
