import Testing
import ZooKeeperCLI
import ZooKeeperServer

/// Which stream each line goes to, as zkCli 3.8's command classes choose it (`out` / `err` in
/// `CliCommand`, `System.err` for `CliException` messages and usage): scripts that read stdout must see
/// what zkCli's users see there, and nothing else.
@Suite("zk-cli prints each line on zkCli's stream", .timeLimit(.minutes(1)))
struct ShellStreamTests {
    @Test("results on stdout; errors, usage, Created and absolute path on stderr")
    func nodeCommands() async throws {
        try await withShellFixture { f in
            #expect(await f.streams("create /a hello") == ["2> Created /a"])
            #expect(await f.streams("create /a again") == ["2> Node already exists: /a"])
            #expect(await f.streams("get /a") == ["1> hello"])
            #expect(await f.streams("get /nope") == ["2> Node does not exist: /nope"])
            #expect(await f.streams("get") == ["2> get [-s] [-w] path"])
            #expect(await f.streams("get /a/") == ["2> Path must not end with / character"])
            #expect(await f.streams("ls /") == ["1> [a, zookeeper]"])
            #expect(await f.streams("stat /a").allSatisfy { $0.hasPrefix("1> ") })
            #expect(await f.streams("set -s /a x").allSatisfy { $0.hasPrefix("1> ") })
            #expect(await f.streams("sync /a") == ["1> Sync is OK"])
            #expect(await f.streams("getAllChildrenNumber /") == ["1> 4"])
            #expect(await f.streams("getEphemerals") == ["1> []"])
            #expect(await f.streams("create /q x bad") == [
                "2> bad does not have the form scheme:id:perm", "2> KeeperErrorCode = InvalidACL", "2> Acl is not valid : null",
            ])
            #expect(await f.streams("getAcl /a") == ["1> 'world,'anyone", "1> : cdrwa"])
            #expect(await f.streams("setAcl /a world:anyone:cdrwaq") == ["2> Unknown perm type: q"])
            #expect(await f.streams("whoami") == ["1> Auth scheme: User", "1> ip: 127.0.0.1"])
            #expect(await f.streams("version") == ["1> \(Shell.cliVersion)"])
            #expect(await f.streams("history").allSatisfy { $0.hasPrefix("1> ") })
            #expect(await f.streams("redo 999") == ["2> Command index out of range"])
            let unknown = await f.streams("foo bar")
            #expect(unknown.count == 30 && unknown.allSatisfy { $0.hasPrefix("2> ") })
            // zkCli has no help: it prints its usage text, on stderr.
            #expect(await f.streams("help").allSatisfy { $0.hasPrefix("2> ") })
        }
    }

    @Test("deleteall that cannot delete everything says so on stderr, in one all-or-nothing batch")
    func deleteAllRefused() async throws {
        try await withShellFixture { f in
            await f.run("create /d x world:anyone:crwa")  // no DELETE: its children stay
            await f.run("create /d/k")
            #expect(await f.streams("deleteall /d") == ["2> Failed to delete some node(s) in the subtree!"])
            #expect(await f.run("ls /d").lines == ["[k]"])
            #expect(await f.streams("deleteall /nope") == ["2> Node does not exist: /nope"])
            await f.run("create /e")
            await f.run("create /e/a")
            await f.run("create /e/a/b")
            #expect(await f.run("deleteall /e -b 1") == ([], .ok))
            #expect(await f.run("ls /").lines == ["[d, zookeeper]"])
        }
    }

    @Test("setAcl -R reports a node that refuses on stdout and goes on")
    func recursiveSetACL() async throws {
        try await withShellFixture { f in
            await f.run("create /t x")
            await f.run("create /t/c y world:anyone:r")
            await f.run("create /t/d z")
            #expect(await f.streams("setAcl -R /t world:anyone:cdrw") == ["1> KeeperErrorCode = NoAuth for /t/c"])
            #expect(await f.run("getAcl /t/d").lines == ["'world,'anyone", ": cdrw"])
        }
    }

    @Test("quota commands: absolute path and errors on stderr, quota, stats, warnings and 'Quota does not exist' on stdout")
    func quotaCommands() async throws {
        try await withShellFixture { f in
            await f.run("create /q d")
            await f.run("create /q/a")
            #expect(await f.streams("setquota -n 1 /q") == ["1> [Warning]: the count quota you create is less than the existing count:2"])
            #expect(await f.streams("setquota -b 0 /q") == [
                "1> [Warning]: the count quota you create is less than the existing count:2",
                "1> [Warning]: the bytes quota you create is less than the existing bytes:1",
            ])
            #expect(await f.streams("listquota /q") == [
                "2> absolute path is /zookeeper/quota/q/zookeeper_limits",
                "1> Output quota for /q count=1,bytes=0=;byteHardLimit=-1;countHardLimit=-1",
                "1> Output stat for /q count=2,bytes=1",
            ])
            #expect(await f.streams("listquota /nope") == [
                "2> absolute path is /zookeeper/quota/nope/zookeeper_limits", "2> quota for /nope does not exist.",
            ])
            #expect(await f.streams("setquota -n 3 /q/a") == ["2> /q/a has a parent /q which has a quota"])
            #expect(await f.streams("setquota -n 0 /q") == ["2> the num quota must be greater than zero"])
            #expect(await f.streams("setquota -B -1 /q") == ["2> the bytes quota must be greater than or equal to zero"])
            #expect(await f.streams("setquota -n 5 /nope") == ["2> /nope does not exist."])
            #expect(await f.streams("setquota -n 5 /zookeeper/quota/x") == ["2> cannot set a quota under the path: /zookeeper/quota"])
            #expect(await f.run("delquota /q") == ([], .ok))
            #expect(await f.run("delquota /q") == (["Quota does not exist for /q"], .ok))
            #expect(await f.streams("delquota /q") == ["1> Quota does not exist for /q"])
            #expect(await f.run("setquota -n 3 /q/a") == ([], .ok))
            #expect(await f.streams("setquota -n 3 /q") == ["2> /q has a child /q/a which has a quota"])
        }
    }

    @Test("Not connected, printwatches and watch events on stdout")
    func sessionLines() async throws {
        try await withShellFixture { f in
            #expect(await f.streams("printwatches") == ["1> printwatches is on"])
            // As zkCli: any word but "on" turns printing off, silently.
            #expect(await f.streams("printwatches maybe") == [])
            #expect(await f.streams("printwatches") == ["1> printwatches is off"])
            await f.run("printwatches on")
            #expect(await f.streams("close") == ["1> ", "1> WATCHER::", "1> ", "1> WatchedEvent state:Closed type:None path:null"])
            #expect(await f.run("ls /") == (["Not connected"], .failed))
            #expect(await f.streams("ls /") == ["1> Not connected"])
        }
    }
}
