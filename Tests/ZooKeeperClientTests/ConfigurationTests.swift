import Testing
@testable import ZooKeeperClient

@Suite("Connect strings")
struct ConfigurationTests {
    @Test("hosts, ports, IPv6 in brackets, default port and chroot")
    func parsing() throws {
        let configuration = try ZooKeeperConfiguration(connectionString: "a:1,[::1]:2182, b ,10.0.0.1:3/app/x")
        #expect(configuration.servers == [
            ServerAddress(host: "a", port: 1), ServerAddress(host: "::1", port: 2182),
            ServerAddress(host: "b", port: 2181), ServerAddress(host: "10.0.0.1", port: 3),
        ])
        #expect(configuration.chroot == "/app/x")
        #expect(try ZooKeeperConfiguration(connectionString: "h:1/").chroot == nil)
        #expect(try ZooKeeperConfiguration(connectionString: "::1").servers == [ServerAddress(host: "::1", port: 2181)])
        #expect(ServerAddress(host: "::1", port: 5).description == "[::1]:5")
    }

    @Test("malformed connect strings are rejected with badArguments", arguments: [
        "", ",", "/chroot", "h:0", "h:70000", "h:port", "[::1:2181", "[::1]x", "h:1/bad//chroot", "h:1/trailing/",
    ])
    func rejected(_ text: String) {
        #expect(throws: ZooKeeperError.self) { _ = try ZooKeeperConfiguration(connectionString: text) }
    }

    @Test("chroot maps client paths to server paths and back")
    func chroot() {
        let chroot = Chroot("/app")
        #expect(chroot.serverPath("/") == "/app")
        #expect(chroot.serverPath("/a/b") == "/app/a/b")
        #expect(chroot.clientPath("/app") == "/")
        #expect(chroot.clientPath("/app/a") == "/a")
        #expect(chroot.clientPath("/apple") == "/apple")
        #expect(Chroot(nil).serverPath("/a") == "/a")
    }

    @Test("sessions are Codable and never print their password")
    func sessionCodable() throws {
        let session = SessionInfo(id: 0x1000008a889001d, password: Array(0..<16), timeoutMilliseconds: 4000)
        let data = try JSONEncoder().encode(session)
        #expect(try JSONDecoder().decode(SessionInfo.self, from: data) == session)
        #expect(session.idHex == "0x1000008a889001d")
        #expect(!session.description.contains("password"))
    }

    @Test("the host list cycles every host, then backs off")
    func hostList() {
        let hosts = [ServerAddress(host: "a", port: 1), ServerAddress(host: "b", port: 2)]
        var list = HostList(hosts, shuffle: false)
        #expect(list.next() == (hosts[0], .zero))
        list.noteFailure()
        #expect(list.next() == (hosts[1], .zero))
        list.noteFailure()
        let (again, delay) = list.next()
        #expect(again == hosts[0] && delay > .zero && delay <= .milliseconds(50))
        list.noteRefused(hosts[0])
        #expect(!list.everyHostRefused)
        _ = list.next()
        list.noteRefused(hosts[1])
        #expect(list.everyHostRefused)
        list.noteConnected()
        #expect(!list.everyHostRefused)
    }
}

import Foundation
