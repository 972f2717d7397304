import Foundation
import Testing
import ZooKeeperCLI
import ZooKeeperClient
import ZooKeeperServer
import ZooKeeperTestSupport

/// Scripted sessions against the embedded server, checking zkCli's exact (masked) output lines.
@Suite("zk-cli sessions against the embedded server", .timeLimit(.minutes(1)))
struct ShellSessionTests {
    @Test("create, get, set, stat, ls, delete print zkCli's lines")
    func crud() async throws {
        try await withShellFixture { f in
            #expect(await f.run("create /a hello") == (["Created /a"], .ok))
            #expect(await f.run("get /a").lines == ["hello"])
            #expect(await f.run("get -s /a").lines == ["hello"] + statLines(dataLength: 5))
            #expect(await f.run("set /a again") == ([], .ok))
            #expect(await f.run("set -s /a x2").lines == statLines(dataVersion: 2, dataLength: 2))
            #expect(await f.run("stat /a").lines == statLines(dataVersion: 2, dataLength: 2))
            #expect(await f.run("create -s /a/s x").lines == ["Created /a/s0000000000"])
            #expect(await f.run("create -e /a/e").lines == ["Created /a/e"])
            #expect(await f.run("ls /").lines == ["[a, zookeeper]"])
            #expect(await f.run("ls -s /a").lines == ["[e, s0000000000]"] + statLines(cversion: 2, dataVersion: 2, dataLength: 2, numChildren: 2))
            #expect(await f.run("ls2 /a").lines.first == "[e, s0000000000]")
            #expect(await f.run("ls -R /a").lines == ["/a", "/a/e", "/a/s0000000000"])
            #expect(await f.run("get /a/e").lines == [""])
            #expect(await f.run("getEphemerals").lines == ["[/a/e]"])
            #expect(await f.run("getEphemerals /a").lines == ["[/a/e]"])
            #expect(await f.run("getAllChildrenNumber /a").lines == ["2"])
            #expect(await f.run("sync /a").lines == ["Sync is OK"])
            #expect(await f.run("delete /a/e") == ([], .ok))
            #expect(await f.run("tree /").lines == ["/", "├── a", "│   └── s0000000000", "└── zookeeper", "    ├── config", "    └── quota"])
            #expect(await f.run("deleteall /a") == ([], .ok))
            #expect(await f.run("create /r").lines == ["Created /r"])
            #expect(await f.run("create /r/c").lines == ["Created /r/c"])
            #expect(await f.run("rmr /r") == ([], .ok))
            #expect(await f.run("ls /").lines == ["[zookeeper]"])
            #expect(await f.run("create -c /cont").lines == ["Created /cont"])
            #expect(await f.run("create -t 5000 /ttl x").lines == ["Created /ttl"])
        }
    }

    @Test("errors in zkCli's words, each a failed outcome")
    func errors() async throws {
        try await withShellFixture { f in
            await f.run("create /a x")
            await f.run("create /a/b y")
            #expect(await f.run("create /a x") == (["Node already exists: /a"], .failed))
            #expect(await f.run("get /nope") == (["Node does not exist: /nope"], .failed))
            #expect(await f.run("ls /nope") == (["Node does not exist: /nope"], .failed))
            #expect(await f.run("ls -R /nope") == (["Node does not exist: /nope"], .failed))
            #expect(await f.run("stat /nope") == (["Node does not exist: /nope"], .failed))
            #expect(await f.run("create /x/y/z").lines == ["Node does not exist: /x/y/z"])
            #expect(await f.run("delete /a") == (["Node not empty: /a"], .failed))
            #expect(await f.run("set -v 9 /a z") == (["version No is not valid : /a"], .failed))
            #expect(await f.run("delete -v 9 /a/b") == (["version No is not valid : /a/b"], .failed))
            #expect(await f.run("create bad").lines == ["Path must start with / character"])
            #expect(await f.run("get /a/").lines == ["Path must not end with / character"])
            #expect(await f.run("create /x//y").lines == ["Invalid path string \"/x//y\" caused by empty node name specified @3"])
            #expect(await f.run("create -c -e /c").lines == ["-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential."])
            #expect(await f.run("create -e -t 10 /t").lines == ["TTLs cannot be used with Ephemeral znodes"])
            #expect(await f.run("removewatches /nope").lines == ["KeeperErrorCode = No such watcher for /nope"])
            #expect(await f.run("redo 99").lines == ["Command index out of range"])
            #expect(await f.run("delquota /nope").lines == ["Quota does not exist for /nope"])
        }
    }

    @Test("bad input prints usage or Command not found and never crashes",
          arguments: [
            ("create", "create [-s] [-e] [-c] [-t ttl] path [data] [acl]"), ("get", "get [-s] [-w] path"),
            ("ls", "ls [-s] [-w] [-R] path"), ("stat", "stat [-w] path"), ("set /a", "set [-s] [-v version] path data"),
            ("delete", "delete [-v version] path"), ("delete -v x /a", "delete [-v version] path"),
            ("deleteall", "deleteall path [-b batch size]"), ("getAcl", "getAcl [-s] path"),
            ("setAcl /a", "setAcl [-s] [-v version] [-R] path acl"), ("addauth digest", "addauth scheme auth"),
            ("sync", "sync path"), ("getAllChildrenNumber", "getAllChildrenNumber path"),
            ("ls -x /", "ls [-s] [-w] [-R] path"), ("set -v", "set [-s] [-v version] path data"),
            ("redo", "redo cmdno"), ("removewatches", "removewatches path [-c|-d|-a] [-l]"),
            ("addWatch -m BAD /a", "addWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE"),
            ("create -t abc /t", "create [-s] [-e] [-c] [-t ttl] path [data] [acl]"), ("listquota", "listquota path"),
          ])
    func usage(_ line: String, _ usage: String) async throws {
        try await withShellFixture { f in
            await f.run("create /a x")
            #expect(await f.run(line) == ([usage], .failed))
        }
    }

    @Test("unknown commands print the usage text and Command not found")
    func unknown() async throws {
        try await withShellFixture { f in
            let (lines, outcome) = await f.run("foo bar")
            #expect(outcome == .notFound && outcome.exitCode == 127)
            #expect(lines.first == "ZooKeeper -server host:port -client-configuration properties-file cmd args")
            #expect(lines.last == "Command not found: Command not found foo")
            #expect(lines.count == 30)
            #expect(await f.run("") == ([], .ok))
        }
    }

    @Test("ACLs: getAcl/setAcl, bad ACL strings, addauth, whoami, Insufficient permission")
    func acls() async throws {
        try await withShellFixture { f in
            #expect(await f.run("getAcl /").lines == ["'world,'anyone", ": cdrwa"])
            #expect(await f.run("create /p x world:anyone:cdrwa").lines == ["Created /p"])
            #expect(await f.run("create /q x bad").lines == ["bad does not have the form scheme:id:perm", "KeeperErrorCode = InvalidACL", "Acl is not valid : null"])
            #expect(await f.run("create /q x digest:u:bad").lines == ["Unknown perm type: b", "KeeperErrorCode = InvalidACL for /q", "Acl is not valid : /q"])
            #expect(await f.run("setAcl /p xyz").lines == ["xyz does not have the form scheme:id:perm", "Acl is not valid : null"])
            #expect(await f.run("setAcl -s /p world:anyone:rwa").lines == statLines(aclVersion: 1, dataLength: 1))
            #expect(await f.run("getAcl -s /p").lines == ["'world,'anyone", ": rwa"] + statLines(aclVersion: 1, dataLength: 1))
            #expect(await f.run("setAcl -v 7 /p world:anyone:cdrwa").lines == ["version No is not valid : /p"])
            #expect(await f.run("setAcl /p world:anyone:w").lines == [])
            #expect(await f.run("get /p") == (["Insufficient permission : /p"], .failed))
            #expect(await f.run("getAcl /p").lines == ["Insufficient permission : /p"])
            #expect(await f.run("whoami").lines == ["Auth scheme: User", "ip: 127.0.0.1"])
            #expect(await f.run("addauth digest u:p") == ([], .ok))
            #expect(await f.run("whoami").lines == ["Auth scheme: User", "ip: 127.0.0.1", "digest: u"])
            #expect(await f.run("create /dg x auth::cdrwa").lines == ["Created /dg"])
            #expect(await f.run("getAcl /dg").lines == ["'digest,'u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=", ": cdrwa"])
            await f.run("create /t x")
            await f.run("create /t/c y")
            #expect(await f.run("setAcl -R /t world:anyone:r").lines == [])
            #expect(await f.run("getAcl /t/c").lines == ["'world,'anyone", ": r"])
        }
    }

    @Test("quotas: setquota, listquota, delquota")
    func quotas() async throws {
        try await withShellFixture { f in
            await f.run("create /q d")
            #expect(await f.run("setquota -n 5 /q") == ([], .ok))
            #expect(await f.run("listquota /q").lines == ["absolute path is /zookeeper/quota/q/zookeeper_limits",
                "Output quota for /q count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1", "Output stat for /q count=1,bytes=1"])
            await f.run("create /q/k")
            #expect(await f.run("setquota -B 100 /q") == ([], .ok))
            #expect(await f.run("listquota /q").lines == ["absolute path is /zookeeper/quota/q/zookeeper_limits",
                "Output quota for /q count=5,bytes=-1=;byteHardLimit=100;countHardLimit=-1", "Output stat for /q count=2,bytes=1"])
            #expect(await f.run("delquota -n /q") == ([], .ok))
            #expect(await f.run("listquota /q").lines[1] == "Output quota for /q count=-1,bytes=-1=;byteHardLimit=100;countHardLimit=-1")
            #expect(await f.run("delquota /q") == ([], .ok))
            #expect(await f.run("listquota /q").lines == ["absolute path is /zookeeper/quota/q/zookeeper_limits", "quota for /q does not exist."])
            #expect(await f.run("setquota /q").lines == ["org.apache.commons.cli.MissingOptionException: Missing required option: [-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]"])
            #expect(await f.run("setquota -n abc /q").lines == ["NumberFormatException happens when parsing the option value"])
            #expect(await f.run("setquota -n 5 /zookeeper/quota/x").lines == ["cannot set a quota under the path: /zookeeper/quota"])
        }
    }

    @Test("watches print WATCHER:: and WatchedEvent lines; printwatches off silences them")
    func watches() async throws {
        try await withShellFixture { f in
            try await withZooKeeperClient(.init(connectionString: f.server.connectString)) { other in
                await f.run("create /w x")
                #expect(await f.run("get -w /w").lines == ["x"])
                #expect(await f.run("stat -w /w").lines.count == 11)
                #expect(await f.run("ls -w /w").lines == ["[]"])
                var mark = f.output.lines.count
                _ = try await other.setData("/w", data: Array("y".utf8))
                let dataEvent = ["", "WATCHER::", "", "WatchedEvent state:SyncConnected type:NodeDataChanged path:/w"]
                try await eventually(within: .seconds(10)) { f.output.lines(since: mark).count >= 4 }
                try await other.create("/w/c")
                try await eventually(within: .seconds(10)) { f.output.lines(since: mark).count >= 8 }
                // One line block per notification, even with two data watches (get -w and stat -w) on the path.
                #expect(f.output.lines(since: mark) == dataEvent + ["", "WATCHER::", "", "WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/w"])
                mark = f.output.lines.count
                #expect(await f.run("addWatch -m PERSISTENT /w") == ([], .ok))
                _ = try await other.setData("/w", data: Array("z".utf8))
                try await eventually(within: .seconds(10)) { f.output.lines(since: mark).count >= 4 }
                #expect(f.output.lines(since: mark) == dataEvent)
                mark = f.output.lines.count
                #expect(await f.run("removewatches /w").lines == ["", "WATCHER::", "", "WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:/w"])
                #expect(await f.run("printwatches").lines == ["printwatches is on"])
                #expect(await f.run("printwatches off").lines == [])
                #expect(await f.run("printwatches").lines == ["printwatches is off"])
                #expect(await f.run("close").lines == [])
                #expect(await f.run("ls /") == (["Not connected"], .failed))
                #expect(await f.run("printwatches on").lines == [])
                #expect(await f.run("connect \(f.server.connectString)").lines == ["", "WATCHER::", "", "WatchedEvent state:SyncConnected type:None path:null"])
                #expect(await f.run("close").lines == ["", "WATCHER::", "", "WatchedEvent state:Closed type:None path:null"])
            }
        }
    }

    @Test("history, redo, help, version, config, 4lw, --json")
    func session() async throws {
        try await withShellFixture { f in
            await f.run("create /h one")
            await f.run("get /h")
            #expect(await f.run("history").lines == ["0 - create /h one", "1 - get /h", "2 - history"])
            #expect(await f.run("redo 1").lines == ["one"])
            #expect(await f.run("history").lines.suffix(2) == ["3 - get /h", "4 - history"])
            #expect(await f.shell.prompt.hasSuffix("(CONNECTED) 5] "))
            #expect(await f.run("help").lines.count == 29 + 4)
            #expect(await f.run("version").lines == [Shell.cliVersion])
            #expect(await f.run("config").outcome == .ok)
            #expect(await f.run("4lw ruok").lines == ["imok"])
            #expect(await f.run("4lw toolong") == (["4lw word"], .failed))
            let ls = await f.run("ls --json -s /").lines
            let object = try #require(try JSONSerialization.jsonObject(with: Data(ls.joined().utf8)) as? [String: Any])
            #expect(object["children"] as? [String] == ["h", "zookeeper"])
            #expect((object["stat"] as? [String: Any])?["numChildren"] as? Int == 2)
            let get = await f.run("get --json /h").lines.joined()
            let data = try #require(try JSONSerialization.jsonObject(with: Data(get.utf8)) as? [String: Any])
            #expect(data["data"] as? String == "one")
            await f.shell.setJSONOutput(true)
            let stat = await f.run("stat /h").lines.joined()
            let statObject = try #require(try JSONSerialization.jsonObject(with: Data(stat.utf8)) as? [String: Any])
            #expect(statObject["path"] as? String == "/h")
            #expect((statObject["stat"] as? [String: Any])?["dataLength"] as? Int == 3)
            #expect(await f.run("quit").outcome == .quit)
        }
    }
}
