import Foundation
import Testing
@testable import ZooKeeperServer

/// kill -9 of a real writer process: this test binary re-runs itself as the writer (the
/// `crashWriterChild` entry point, enabled only in that child, where its environment variable is set),
/// which prints each zxid as soon as its commit returns; the parent SIGKILLs it at a random point and
/// recovers.
@Suite struct CrashProcessTests {
    static let directoryVariable = "SHEPHERD_CRASH_WRITER_DIR"
    /// The writer's directory when this process is the child the test below started; nil in a normal run.
    static let writerDirectory = ProcessInfo.processInfo.environment[directoryVariable]

    @Test func killNineNeverLosesAnAcknowledgedWrite() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var maxAcked: Int64 = 0
        for round in 0..<4 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            child.arguments = ["--testing-library", "swift-testing", "--filter", "crashWriterChild"]
            child.environment = ProcessInfo.processInfo.environment.merging([Self.directoryVariable: dir.path]) { $1 }
            let output = Pipe()
            child.standardOutput = output
            child.standardError = FileHandle.nullDevice
            try child.run()

            let killAfter = maxAcked + Int64.random(in: 200...3000)
            var pending = ""
            var ackedThisRound: Int64 = 0
            reading: while true {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { break }   // the child ended by itself
                pending += String(decoding: data, as: UTF8.self)
                while let newline = pending.firstIndex(of: "\n") {
                    let line = pending[..<newline]
                    pending = String(pending[pending.index(after: newline)...])
                    if line.hasPrefix("ACKED "), let zxid = Int64(line.dropFirst(6)) {
                        ackedThisRound = zxid
                        if zxid >= killAfter {
                            kill(child.processIdentifier, SIGKILL)
                            break reading
                        }
                    }
                }
            }
            child.waitUntilExit()
            #expect(ackedThisRound > maxAcked, "round \(round): the writer made progress")
            maxAcked = max(maxAcked, ackedThisRound)

            let state = try dir.recover(strict: true)
            #expect(state.lastZxid >= maxAcked, "round \(round): acknowledged \(maxAcked), recovered \(state.lastZxid)")
            let base = state.snapshotZxid ?? 0
            #expect(state.zxids == (state.lastZxid > base ? Array((base + 1)...state.lastZxid) : []))
            #expect(state.entries.allSatisfy { $0.entry == makeEntry(zxid: $0.zxid) })
            if let tree = state.snapshotTree {
                #expect(tree == withUnsafeBytes(of: base.bigEndian) { Array($0) })
            }
            #expect(state.warnings.allSatisfy { $0.kind == .tornTail }, "\(state.warnings)")
            print("[crash-test] round \(round): killed after ack \(ackedThisRound); recovered snapshot \(state.snapshotZxid.map(String.init) ?? "none") + \(state.entries.count) entries up to \(state.lastZxid); \(state.warnings)")
            maxAcked = state.lastZxid   // the next writer continues from what was recovered
        }
    }

    /// The writer half of the test above: a child-process entry point, not a test of its own. In a
    /// normal run it is skipped (reported as such, never as a pass); the parent's `--filter` runs it in
    /// the child, whose environment names the directory. A child that skipped it would write nothing,
    /// and the parent's "the writer made progress" check would fail.
    @Test(.enabled(if: writerDirectory != nil,
                   "child-process entry point of killNineNeverLosesAnAcknowledgedWrite, run only in the child it starts"))
    func crashWriterChild() throws {
        let path = try #require(Self.writerDirectory)
        let dir = TemporaryDirectory(existing: path)
        let state = try dir.recover(strict: true)
        let log = try TxnLog(directory: dir.dataLogDir, forceSync: true, lastZxid: state.lastZxid, preallocationSize: 1 << 16)
        let store = SnapshotStore(directory: dir.dataDir)
        var zxid = state.lastZxid
        var generator = SystemRandomNumberGenerator()
        while zxid < state.lastZxid + 100_000 {
            for _ in 0..<Int.random(in: 1...20, using: &generator) {
                zxid += 1
                try log.append(zxid: zxid, entry: makeEntry(zxid: zxid))
            }
            try log.commit()
            let line = Array("ACKED \(zxid)\n".utf8)
            _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if zxid % 500 < 20 {
                try log.rollLog()
                try store.write(zxid: zxid, tree: withUnsafeBytes(of: zxid.bigEndian) { Array($0) })
                try Purger.purge(dataDir: dir.dataDir, dataLogDir: dir.dataLogDir, retainCount: 3)
            }
        }
    }
}
