#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, throwing wrappers over the POSIX calls persistence needs. No Foundation.
package enum FileIO {
    static func error(_ what: String, _ path: String?) -> PersistenceError {
        PersistenceError(.io(errno: errno), path: path, what)
    }

    /// Creates `path` and any missing parents (mode 0755); fsyncs each directory that gained an entry.
    package static func makeDirectories(_ path: String) throws(PersistenceError) {
        if isDirectory(path) { return }
        let parent = parentDirectory(of: path)
        if parent != path { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw error("mkdir failed", path) }
        try syncDirectory(parent)
    }

    package static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    package static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    package static func parentDirectory(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }

    /// Names in `directory` (no `.`/`..`). A missing directory lists as empty.
    package static func list(_ directory: String) throws(PersistenceError) -> [String] {
        guard let dir = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw error("opendir failed", directory)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// fsync of a directory, so that creations, renames and deletions in it are durable.
    package static func syncDirectory(_ directory: String) throws(PersistenceError) {
        let fd = open(directory, O_RDONLY)
        if fd < 0 { throw error("open directory failed", directory) }
        defer { close(fd) }
        if fsync(fd) != 0 && errno != EINVAL { throw error("fsync directory failed", directory) }
    }

    package static func rename(_ from: String, to: String) throws(PersistenceError) {
        if systemRename(from, to) != 0 { throw error("rename to \(to) failed", from) }
    }

    package static func remove(_ path: String) throws(PersistenceError) {
        if unlink(path) != 0 && errno != ENOENT { throw error("unlink failed", path) }
    }

    package static func fileSize(_ path: String) throws(PersistenceError) -> Int {
        var info = stat()
        if stat(path, &info) != 0 { throw error("stat failed", path) }
        return Int(info.st_size)
    }

    /// Truncates `path` to `length` bytes and fsyncs it.
    package static func truncate(_ path: String, to length: Int) throws(PersistenceError) {
        let fd = open(path, O_WRONLY)
        if fd < 0 { throw error("open for truncate failed", path) }
        defer { close(fd) }
        if ftruncate(fd, off_t(length)) != 0 { throw error("ftruncate failed", path) }
        if fsync(fd) != 0 { throw error("fsync failed", path) }
    }

    /// The whole file.
    package static func readAll(_ path: String) throws(PersistenceError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw error("open failed", path) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw error("read failed", path)
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// Writes all of `bytes` at the file offset (retrying short writes and EINTR).
    package static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(PersistenceError) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes {
                pwrite(fd, $0.baseAddress! + written, $0.count - written, off_t(offset + written))
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw error("write failed", path)
            }
            written += count
        }
    }

    /// Flushes file data (and the metadata needed to read it back) to stable storage.
    package static func syncData(_ fd: Int32, path: String) throws(PersistenceError) {
        #if os(Linux)
        let result = fdatasync(fd)
        #else
        let result = fcntl(fd, F_FULLFSYNC)
        #endif
        if result != 0 { throw error("fdatasync failed", path) }
    }

    /// Allocates `[offset, offset + length)` so later writes need no block allocation (zeros when read).
    package static func preallocate(_ fd: Int32, offset: Int, length: Int, path: String) throws(PersistenceError) {
        #if os(Linux)
        let result = posix_fallocate(fd, off_t(offset), off_t(length))
        if result == 0 { return }
        if result != EOPNOTSUPP && result != EINVAL {
            throw PersistenceError(.io(errno: result), path: path, "posix_fallocate failed")
        }
        #endif
        if ftruncate(fd, off_t(offset + length)) != 0 { throw error("ftruncate (preallocate) failed", path) }
    }

    /// Writes the concatenated `parts` to `path` atomically: a temporary file, fsync, rename, fsync of the directory.
    package static func writeAtomically(_ parts: [[UInt8]], to path: String, temporary: String) throws(PersistenceError) {
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw error("create failed", temporary) }
        do throws(PersistenceError) {
            var offset = 0
            for part in parts {
                try writeAll(fd, part, at: offset, path: temporary)
                offset += part.count
            }
            if fsync(fd) != 0 { throw error("fsync failed", temporary) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        do throws(PersistenceError) {
            try rename(temporary, to: path)
        } catch {
            unlink(temporary)
            throw error
        }
        try syncDirectory(parentDirectory(of: path))
    }
}

#if canImport(Glibc)
private func systemRename(_ from: String, _ to: String) -> Int32 { Glibc.rename(from, to) }
#elseif canImport(Darwin)
private func systemRename(_ from: String, _ to: String) -> Int32 { Darwin.rename(from, to) }
#endif
