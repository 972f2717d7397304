import Foundation
import ZooKeeperTestSupport

/// Debian's `chromium` in headless mode: screenshots, and a page left open to watch it update live.
enum HeadlessChromium {
    /// The browser, if installed.
    static let path: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Under CI the browser test must run, never skip.
    static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Flags for every run: no sandbox (root in containers), no GPU, a private profile.
    static func flags(profile: String) -> [String] {
        ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--hide-scrollbars", "--window-size=1400,900", "--user-data-dir=" + profile]
    }

    /// Where screenshots go (the test prints it): `$SHEPHERD_ARTIFACTS_DIR/inspector` if set, else the
    /// package's `.build/test-artifacts/inspector`, else a temporary directory.
    static func artifactsDirectory(filePath: String = #filePath) -> String {
        let package = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates: [String?] = [ProcessInfo.processInfo.environment["SHEPHERD_ARTIFACTS_DIR"].map { $0 + "/inspector" },
                          package.appendingPathComponent(".build/test-artifacts/inspector").path,
                          FileManager.default.temporaryDirectory.appendingPathComponent("shepherd-inspector-\(UUID().uuidString.prefix(8))").path]
        for case let directory? in candidates {
            if (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil,
               FileManager.default.isWritableFile(atPath: directory) {
                return directory
            }
        }
        return FileManager.default.temporaryDirectory.path
    }

    /// Saves a screenshot of the page at `url` to `file`. The page is opened with `snapshot=1`: it reads
    /// everything once instead of keeping an event stream open, so Chromium's virtual time can run out
    /// once every read has been answered and rendered (an open stream would hold it forever).
    static func screenshot(_ url: String, to file: String, settle: Duration = .seconds(3)) async throws {
        guard let path else { throw TestSupportError("chromium is not installed") }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("shepherd-chromium-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let milliseconds = settle.components.seconds * 1000 + settle.components.attoseconds / 1_000_000_000_000_000
        let still = url + (url.contains("?") ? "&" : "?") + "snapshot=1"
        let run = try await runTool(path, flags(profile: profile) + ["--virtual-time-budget=\(milliseconds)", "--screenshot=" + file, still],
                                    timeout: .seconds(90))
        guard FileManager.default.fileExists(atPath: file) else {
            throw TestSupportError("chromium wrote no screenshot: \(run)")
        }
    }

    /// The DOM of the page at `url` (in snapshot mode, see ``screenshot(_:to:settle:)``) once rendered;
    /// Chromium's own log lines come along in the text.
    static func dumpDOM(_ url: String, settle: Duration = .seconds(3)) async throws -> String {
        guard let path else { throw TestSupportError("chromium is not installed") }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("shepherd-chromium-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let milliseconds = settle.components.seconds * 1000 + settle.components.attoseconds / 1_000_000_000_000_000
        let still = url + (url.contains("?") ? "&" : "?") + "snapshot=1"
        let run = try await runTool(path, flags(profile: profile) + ["--virtual-time-budget=\(milliseconds)", "--dump-dom", still],
                                    timeout: .seconds(90))
        return run.output
    }

    /// Opens `url` in a browser left running (stop it with ``SupervisedProcess/terminate(signal:grace:)``).
    static func open(_ url: String, profile: String, log: String) throws -> SupervisedProcess {
        guard let path else { throw TestSupportError("chromium is not installed") }
        return try SupervisedProcess(path: path, arguments: flags(profile: profile) + ["--remote-debugging-port=0", url],
                                     outputFile: log)
    }
}
