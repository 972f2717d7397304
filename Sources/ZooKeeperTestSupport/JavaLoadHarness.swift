import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The repository's Java load harness (`JavaLoadHarness/shepherdbench/*.java` beside this file):
/// Apache ZooKeeper's Java client and Curator's recipes under the load zk-bench puts on Shepherd —
/// the reference side of `zk-bench compare`, `mutex` and `rwlock`, and a Java-client interop check
/// for the tests. `MODE --connect host:port [options]` prints one JSON line (`Harness.java` lists
/// the modes). It is compiled with `javac` against Debian's jars on first use, into a per-user cache
/// directory named by a hash of the sources, class path and compiler: an edit recompiles, an
/// unchanged tree never does, and concurrent first uses (parallel tests, two zk-bench runs) compile
/// into private directories and keep whichever lands first. `SHEPHERD_BENCH_JAVA` may name another
/// harness with the same command line instead.
public struct JavaLoadHarness: Sendable {
    /// The program to run, and the arguments that go before the mode.
    public let executable: String
    public let leadingArguments: [String]

    /// The full argument list for one run: `arguments` starts with the mode.
    public func arguments(_ arguments: [String]) -> [String] { leadingArguments + arguments }

    public static let overrideVariable = "SHEPHERD_BENCH_JAVA"
    public static let jarDirectory = "/usr/share/java"
    /// The client and Curator with what they load; slf4j-simple prints their errors on stderr.
    public static let jars = [
        "zookeeper", "zookeeper-jute", "curator-client", "curator-framework", "curator-recipes", "guava",
        "slf4j-api", "slf4j-simple",
    ].map { "\(jarDirectory)/\($0).jar" }
    public static let debianPackages =
        "default-jdk-headless libzookeeper-java libcurator-recipes-java libguava-java libslf4j-java"

    /// A benchmark's JVM: a fixed heap, so resizing does not show up in the numbers.
    public static let benchmarkJVMOptions = ["-Xms512m", "-Xmx512m"]
    /// A test's JVM: small, and quick to start (only correctness is checked).
    public static let testJVMOptions = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]

    static var sourceDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("JavaLoadHarness/shepherdbench")
    }

    private static var override: String? {
        guard let path = ProcessInfo.processInfo.environment[overrideVariable], !path.isEmpty else { return nil }
        return path
    }

    /// What is missing to compile and run the harness (empty when nothing is); with the override set,
    /// only that it is executable.
    public static var missing: [String] {
        if let override {
            return FileManager.default.isExecutableFile(atPath: override) ? [] : ["\(override) (\(overrideVariable))"]
        }
        var missing = ["java", "javac"].filter { executable($0) == nil }
        missing += jars.filter { !FileManager.default.isReadableFile(atPath: $0) }
        if !FileManager.default.fileExists(atPath: sourceDirectory.appendingPathComponent("Harness.java").path) {
            missing.append("the harness sources at \(sourceDirectory.path) (read from the checkout this was built in)")
        }
        return missing
    }

    /// What to install, for messages.
    public static var requirement: String { "javac, java and Debian's jars (apt-get install \(debianPackages))" }

    /// The harness, ready to run: the override, or our sources compiled (now, unless cached).
    /// `progress` hears about a compilation before it starts.
    public static func prepare(
        jvmOptions: [String] = [], progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> JavaLoadHarness {
        if let override {
            guard FileManager.default.isExecutableFile(atPath: override) else {
                throw TestSupportError("\(overrideVariable)=\(override) is not an executable file")
            }
            return JavaLoadHarness(executable: override, leadingArguments: [])
        }
        let missing = missing
        guard missing.isEmpty, let java = executable("java") else {
            throw TestSupportError("the Java load harness needs \(requirement); missing: \(missing.joined(separator: ", "))")
        }
        let classes = try await compiled(progress: progress)
        let classPath = ([classes] + jars).joined(separator: ":")
        return JavaLoadHarness(executable: java, leadingArguments: jvmOptions + [
            "-Djava.net.preferIPv4Stack=true",
            "-Dzookeeper.sasl.client=false",  // no JAAS configuration to look for: plain sessions, as zk-bench's
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=error",
            "-cp", classPath, "shepherdbench.Harness",
        ])
    }

    // MARK: Compiling, once per source tree

    /// One compilation per cache key per process; other processes are handled by the atomic rename.
    private static let compilations = Mutex<[String: Task<String, any Error>]>([:])

    private static func compiled(progress: @escaping @Sendable (String) -> Void) async throws -> String {
        let sources = try FileManager.default.contentsOfDirectory(atPath: sourceDirectory.path)
            .filter { $0.hasSuffix(".java") }.sorted()
        guard let javac = executable("javac") else { throw TestSupportError("javac is not on PATH") }
        // -implicit:none: a source found on the class path (findbugs-annotations.jar, which zookeeper.jar names,
        // ships one) is read, not compiled into the cache.
        let flags = ["-Xlint:all,-path", "-implicit:none", "--release", "11", "-encoding", "UTF-8"]
        var key = FNV1a()
        for name in sources {
            key.add(name)
            key.add(try Data(contentsOf: sourceDirectory.appendingPathComponent(name)))
        }
        key.add(jars.joined(separator: ":"))
        key.add(javac)
        key.add(flags.joined(separator: " "))
        let hex = String(key.value, radix: 16)
        let name = String(repeating: "0", count: 16 - hex.count) + hex
        let task = compilations.withLock { tasks in
            if let task = tasks[name] { return task }
            let task = Task {
                try await compile(sources: sources, javac: javac, flags: flags, into: try cacheRoot(), name: name, progress: progress)
            }
            tasks[name] = task
            return task
        }
        return try await task.value
    }

    private static func compile(
        sources: [String], javac: String, flags: [String], into root: String, name: String,
        progress: @Sendable (String) -> Void
    ) async throws -> String {
        let destination = "\(root)/\(name)"
        if FileManager.default.fileExists(atPath: "\(destination)/shepherdbench/Harness.class") { return destination }
        progress("compiling the Java load harness into \(destination) (once per source change)")
        let staging = "\(root)/.\(name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
        let arguments = ["-J-XX:+UseSerialGC", "-J-XX:TieredStopAtLevel=1"] + flags
            + ["-d", staging, "-cp", jars.joined(separator: ":")]
            + sources.map { sourceDirectory.appendingPathComponent($0).path }
        let run: ToolRun
        do {
            run = try await runTool(javac, arguments, timeout: .seconds(180))
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
        guard run.exitCode == 0 else {
            try? FileManager.default.removeItem(atPath: staging)
            throw TestSupportError("javac failed on \(sourceDirectory.path): \(run)")
        }
        // Atomic: the directory appears complete or not at all. Another process may have won the race.
        if rename(staging, destination) != 0 {
            try? FileManager.default.removeItem(atPath: staging)
            guard FileManager.default.fileExists(atPath: "\(destination)/shepherdbench/Harness.class") else {
                throw TestSupportError.posix("rename(\(staging), \(destination))")
            }
        }
        return destination
    }

    /// `$TMPDIR/shepherd-java-harness-<uid>`, ours alone: classes another user could replace would run as us.
    private static func cacheRoot() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("shepherd-java-harness-\(getuid())").path
        if mkdir(root, 0o700) != 0 && errno != EEXIST { throw TestSupportError.posix("mkdir(\(root))") }
        var info = stat()
        guard lstat(root, &info) == 0 else { throw TestSupportError.posix("lstat(\(root))") }
        guard info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid(), info.st_mode & 0o022 == 0 else {
            throw TestSupportError("\(root) is not a directory that only this user can write: remove it")
        }
        return root
    }

    static func executable(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// 64-bit FNV-1a: a cache key, not a defence (the toolchain has no SHA-256 on Linux).
private struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
        value = (value ^ 0xff) &* 0x100_0000_01b3  // a separator, so "ab"+"c" differs from "a"+"bc"
    }

    mutating func add(_ text: String) { add(text.utf8) }
}
