import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperServer
import ZooKeeperTestSupport

/// Four-letter words from our server have Apache 3.8's shapes: the same words go to a private
/// Apache server set up the same way (one session with a data watch and an ephemeral) and the
/// outputs are compared line by line with values masked.
@Suite("Four-letter words: shapes match Apache 3.8", .timeLimit(.minutes(2)))
struct ServerFourLetterWordTests {
    static func word(_ word: String, _ port: Int) throws -> String {
        try sendFourLetterWord(word, host: "127.0.0.1", port: port, timeout: .seconds(10))
    }

    static func lines(_ text: String) -> [String] { text.components(separatedBy: "\n") }
    static func mask(_ text: String) -> String {
        text.replacingOccurrences(of: #"0x[0-9a-f]+"#, with: "0x?", options: .regularExpression)
            .replacingOccurrences(of: #"[0-9]+"#, with: "N", options: .regularExpression)
    }
    /// `Key: value` lines → keys; connection lines (one or more) → one `<clients>` marker.
    static func statShape(_ text: String) -> [String] {
        var shape: [String] = []
        for line in lines(text) {
            if line.hasPrefix(" /") {
                if shape.last != "<clients>" { shape.append("<clients>") }
            } else if let colon = line.firstIndex(of: ":") {
                shape.append(String(line[..<colon]))
            } else {
                shape.append(line)
            }
        }
        return shape
    }
    static func keys(_ text: String, separator: Character) -> [String] {
        lines(text).filter { !$0.isEmpty }.map { String($0.split(separator: separator, maxSplits: 1).first ?? "") }
    }
    static let consLine = #"^ /127\.0\.0\.1:\d+\[\d+\]\(queued=\d+,recved=\d+,sent=\d+(,sid=0x[0-9a-f]+,lop=\w+,est=\d+,to=\d+,(lcxid=0x[0-9a-f]+,)?lzxid=0x[0-9a-f]+,lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+)?\)$"#

    @Test("ruok, srvr, stat, mntr, conf, cons, wchs, wchc, wchp, dump, envi, isro, srst, crst",
          .enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
    func shapesMatchApache() async throws {
        try await withEmbeddedServer { ours in
            let apache = try await TestServerFixture.privateApacheServer()
            defer { apache.cleanup() }
            var clients: [ZooKeeperClient] = []
            for connectString in [ours.connectString, apache.connectString] {
                let zk = try await connectClient(connectString)
                try await zk.create("/w", data: Array("x".utf8))
                try await zk.create("/eph", mode: .ephemeral)
                _ = try await zk.getDataWatching("/w")
                clients.append(zk)
            }
            let (o, a) = (ours.port, apache.port)

            #expect(try Self.word("ruok", o) == "imok")

            let srvr = try Self.word("srvr", o)
            #expect(Self.statShape(srvr) == Self.statShape(try Self.word("srvr", a)), "srvr:\n\(srvr)")
            #expect(srvr.hasPrefix("Zookeeper version: 3.8.0-") && srvr.contains("Mode: standalone\n"))
            #expect(srvr.range(of: #"^Zookeeper version: \d+\.\d+\.\d+-[^,]*, built on \d{4}-\d\d-\d\d \d\d:\d\d UTC\n"#, options: .regularExpression) != nil)
            for line in Self.lines(srvr) where !line.isEmpty && !line.hasPrefix("Zookeeper version") {
                #expect(line.filter { $0 == ":" }.count == 1, "zktop splits on the one colon: \(line)")
            }

            let stat = try Self.word("stat", o)
            #expect(Self.statShape(stat) == Self.statShape(try Self.word("stat", a)), "stat:\n\(stat)")

            for (name, text) in [("ours", try Self.word("cons", o)), ("Apache", try Self.word("cons", a))] {
                let lines = Self.lines(text)
                #expect(lines.suffix(2) == ["", ""], "\(name) cons ends with a blank line: \(text)")
                let connections = lines.dropLast(2)
                #expect(connections.allSatisfy { $0.range(of: Self.consLine, options: .regularExpression) != nil }, "\(name) cons:\n\(text)")
                #expect(connections.contains { $0.contains(",sid=0x") }, "\(name) cons lists the session:\n\(text)")
            }

            for exact in ["ruok", "isro", "srst", "crst"] {
                #expect(try Self.word(exact, o) == Self.word(exact, a), "\(exact)")
            }

            let conf = try Self.word("conf", o)
            #expect(Self.keys(conf, separator: "=") == Self.keys(try Self.word("conf", a), separator: "="), "conf:\n\(conf)")

            let mntr = try Self.word("mntr", o)
            let apacheKeys = Set(Self.keys(try Self.word("mntr", a), separator: "\t"))
            let ourKeys = Self.keys(mntr, separator: "\t")
            #expect(Self.lines(mntr).dropLast().allSatisfy { $0.split(separator: "\t").count == 2 }, "mntr:\n\(mntr)")
            #expect(Array(ourKeys.prefix(2)) == ["zk_version", "zk_server_state"])
            #expect(Set(ourKeys).subtracting(apacheKeys).isEmpty, "keys Apache does not print: \(Set(ourKeys).subtracting(apacheKeys))")
            let core = ["zk_ephemerals_count", "zk_num_alive_connections", "zk_avg_latency", "zk_outstanding_requests",
                        "zk_znode_count", "zk_watch_count", "zk_approximate_data_size", "zk_open_file_descriptor_count",
                        "zk_max_file_descriptor_count", "zk_packets_sent", "zk_packets_received", "zk_uptime",
                        "zk_global_sessions", "zk_local_sessions", "zk_min_latency", "zk_max_latency",
                        // ServerMetrics, printed whatever the role (standalone too), and the response sizes.
                        "zk_commit_count", "zk_looking_count", "zk_cnt_fsynctime", "zk_avg_sync_processor_batch_size",
                        "zk_p999_quorum_ack_latency", "zk_sum_dbinittime", "zk_last_client_response_size"]
            #expect(Set(core).subtracting(ourKeys).isEmpty, "missing from mntr: \(Set(core).subtracting(ourKeys))")

            for watches in ["wchs", "wchc", "wchp"] {
                #expect(Self.mask(try Self.word(watches, o)) == Self.mask(try Self.word(watches, a)), "\(watches)")
            }
            #expect(try Self.word("wchs", o) == "1 connections watching 1 paths\nTotal watches:1\n")

            // dump: the section headers and the ephemerals section; expiry buckets are timing-dependent.
            func dumpShape(_ text: String) -> [String] {
                Self.lines(text).filter { !$0.hasPrefix("\t") && !$0.contains(" expire at ") && !$0.hasPrefix("Session Sets")
                    && !$0.hasPrefix("Connections Sets") }.map(Self.mask)
            }
            let dump = try Self.word("dump", o)
            #expect(dumpShape(dump) == dumpShape(try Self.word("dump", a)), "dump:\n\(dump)")
            #expect(dump.contains("\t/eph\n"))

            let envi = try Self.word("envi", o)
            let apacheEnvi = try Self.word("envi", a)
            #expect(envi.hasPrefix("Environment:\n"))
            let enviKeys = Self.keys(String(envi.dropFirst("Environment:\n".count)), separator: "=")
            let apacheEnviKeys = Self.keys(String(apacheEnvi.dropFirst("Environment:\n".count)), separator: "=")
            #expect(enviKeys == apacheEnviKeys.filter { !$0.hasPrefix("java.") }, "envi:\n\(envi)")
            #expect(Self.lines(envi).contains("os.name=\(Self.lines(apacheEnvi).first { $0.hasPrefix("os.name=") }?.dropFirst(8) ?? "")"))

            for zk in clients { await closeBounded(zk) }
        }
    }

    @Test("a word outside the whitelist is refused with Apache's message; srvr is allowed by default")
    func whitelist() async throws {
        var configuration = EmbeddedServer.defaultConfiguration
        configuration.fourLetterWordWhitelist = ServerConfiguration().fourLetterWordWhitelist
        try await withEmbeddedServer(configuration: configuration, inMemory: true) { server throws in
            for refused in ["ruok", "stat", "mntr", "cons", "dump", "wchs", "envi", "conf", "srst"] {
                #expect(try Self.word(refused, server.port) == "\(refused) is not executed because it is not in the whitelist.\n")
            }
            #expect(try Self.word("srvr", server.port).hasPrefix("Zookeeper version: "))
        }
    }
}
