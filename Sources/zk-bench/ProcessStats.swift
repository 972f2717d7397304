import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the kernel says about a server process and its files (Linux `/proc`).
enum ProcessStats {
    struct Memory: Sendable {
        /// `VmRSS`: resident now.
        var residentKB: Int
        /// `VmHWM`: the peak resident size so far.
        var peakResidentKB: Int
    }

    /// `VmRSS` and `VmHWM` from `/proc/<pid>/status`, nil when unreadable (not Linux, process gone).
    static func memory(pid: Int32) -> Memory? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Int? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        guard let rss = field("VmRSS"), let hwm = field("VmHWM") else { return nil }
        return Memory(residentKB: rss, peakResidentKB: hwm)
    }

    struct DiskUsage: Sendable {
        /// Sum of file sizes.
        var apparentBytes: Int64
        /// Allocated blocks (`du`): preallocated log space counts only where actually allocated.
        var allocatedBytes: Int64
        /// File names (relative) with their sizes, for the JSON report.
        var files: [String: Int64]
    }

    /// Every regular file under `path`, recursively.
    static func diskUsage(_ path: String) -> DiskUsage {
        var usage = DiskUsage(apparentBytes: 0, allocatedBytes: 0, files: [:])
        guard let walker = FileManager.default.enumerator(atPath: path) else { return usage }
        while let relative = walker.nextObject() as? String {
            var info = stat()
            guard lstat(path + "/" + relative, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            usage.apparentBytes += Int64(info.st_size)
            usage.allocatedBytes += Int64(info.st_blocks) * 512
            usage.files[relative] = Int64(info.st_size)
        }
        return usage
    }
}
