#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The write-ahead transaction log: `<dataLogDir>/version-2/log.<first zxid hex>` files in Apache
/// ZooKeeper's format (`FileTxnLog`): a FileHeader ("ZKLG", 2, dbid 0), then per entry an Adler32 of the
/// entry (long), the entry as a jute buffer (int length + bytes) and the end-of-record byte 'B'.
///
/// Not thread-safe: one writer thread calls everything. ``append(zxid:entry:)`` only buffers;
/// ``commit()`` writes the buffered entries and fdatasyncs once (group commit) — acknowledge writes
/// only after it returns. Like Apache, a new instance never appends to an existing file: its first
/// append starts `log.<that zxid>`, so run ``Recovery/recover(dataDir:dataLogDir:strict:)`` first.
///
/// Notable behaviours:
/// - Each entry must start with its jute `TxnHeader` (as Apache's entries do); the zxid at bytes 12..<20
///   must equal `zxid`, which is how recovery reads zxids back and why Apache's `zkTxnLogToolkit`
///   can read these files when the entries are Apache's txn encodings.
/// - After a failed write or sync the log refuses further use (``PersistenceError/Kind/invalidArgument``);
///   the caller must stop acknowledging and restart through recovery, as Apache does on an I/O error.
package final class TxnLog {
    package let directory: String
    package let forceSync: Bool
    /// Bytes allocated ahead of the write position (`zookeeper.preAllocSize`, Apache: 64 MiB); 0 = none.
    package let preallocationSize: Int

    private struct OpenFile {
        var fd: Int32
        var path: String
        /// Bytes of this file already written (header included).
        var writtenLength: Int
        /// Bytes allocated on disk so far.
        var allocatedLength: Int
        /// The directory entry still needs an fsync of the directory.
        var isNew: Bool
    }

    private var current: OpenFile?
    /// Files rolled away from whose last bytes are not yet synced (Apache's `streamsToFlush`).
    private var rolled: [OpenFile] = []
    private var buffer: [UInt8] = []
    private var bufferedEntries = 0
    private var failed: PersistenceError?
    package private(set) var lastAppendedZxid: Int64
    /// The zxid of the last entry made durable by ``commit()``.
    package private(set) var lastCommittedZxid: Int64
    /// Wall time of the most recent data sync in nanoseconds (0 before any).
    package private(set) var lastSyncNanoseconds: UInt64 = 0
    /// Entries the most recent ``commit()`` made durable (its group commit's size, for the metrics).
    package private(set) var lastCommitEntries = 0

    /// - Parameters:
    ///   - directory: `dataLogDir`; `version-2/` is created inside it.
    ///   - forceSync: fdatasync on every commit (`forceSync=yes`). Off loses durability on power loss.
    ///   - lastZxid: the last zxid recovered; appends must be above it.
    package init(directory: String, forceSync: Bool, lastZxid: Int64 = 0, preallocationSize: Int = 64 << 20) throws(PersistenceError) {
        self.directory = PersistenceLayout.versionDirectory(of: directory)
        self.forceSync = forceSync
        self.preallocationSize = max(0, preallocationSize)
        self.lastAppendedZxid = lastZxid
        self.lastCommittedZxid = lastZxid
        try FileIO.makeDirectories(self.directory)
    }

    deinit {
        if let current { closeDescriptor(current.fd) }
        for file in rolled { closeDescriptor(file.fd) }
    }

    /// The file appends currently go to, if one is open.
    package var currentFilePath: String? { current?.path }
    /// Entries appended and not yet committed.
    package var pendingEntryCount: Int { bufferedEntries }

    /// Buffers one entry. Opens `log.<zxid>` first when no file is open (start, or after ``rollLog()``).
    package func append(zxid: Int64, entry: [UInt8]) throws(PersistenceError) {
        if let failed { throw failed }
        guard zxid > lastAppendedZxid else {
            throw PersistenceError(.invalidArgument, "zxid \(zxid) is not above the last appended \(lastAppendedZxid)")
        }
        guard PersistenceLayout.zxid(ofEntry: entry) == zxid else {
            throw PersistenceError(.invalidArgument, "entry for zxid \(zxid) does not start with a TxnHeader of that zxid")
        }
        guard entry.count <= PersistenceLayout.maxEntrySize else {
            throw PersistenceError(.invalidArgument, "entry of \(entry.count) bytes exceeds \(PersistenceLayout.maxEntrySize)")
        }
        if current == nil { try openFile(firstZxid: zxid) }
        let checksum = Int64(Adler32.checksum(entry))
        buffer.reserveCapacity(buffer.count + entry.count + 13)
        appendBigEndian(UInt64(bitPattern: checksum), bytes: 8)
        appendBigEndian(UInt64(entry.count), bytes: 4)
        buffer.append(contentsOf: entry)
        buffer.append(PersistenceLayout.endOfRecord)
        bufferedEntries += 1
        lastAppendedZxid = zxid
    }

    /// Writes every buffered entry and, with forceSync, makes them durable with one fdatasync per file
    /// touched (normally one). After it returns, every appended entry survives a crash.
    package func commit() throws(PersistenceError) {
        if let failed { throw failed }
        do throws(PersistenceError) {
            lastCommitEntries = bufferedEntries
            try flushBuffer()
            let start = Self.now()
            let createdFiles = rolled.contains(where: \.isNew) || current?.isNew == true
            while let file = rolled.first {
                if forceSync { try FileIO.syncData(file.fd, path: file.path) }
                closeDescriptor(file.fd)
                rolled.removeFirst()
            }
            if let file = current, forceSync { try FileIO.syncData(file.fd, path: file.path) }
            if createdFiles {
                try FileIO.syncDirectory(directory)
                current?.isNew = false
            }
            lastSyncNanoseconds = Self.now() - start
            lastCommittedZxid = lastAppendedZxid
        } catch {
            failed = PersistenceError(.invalidArgument, path: error.path, "log unusable after failed commit: \(error)")
            throw error
        }
    }

    /// Ends the current file: the next append starts `log.<its zxid>` (Apache rolls after each snapshot).
    /// Buffered entries stay in the old file and become durable at the next ``commit()``.
    package func rollLog() throws(PersistenceError) {
        if let failed { throw failed }
        guard current != nil else { return }
        do throws(PersistenceError) {
            try flushBuffer()
        } catch {
            failed = PersistenceError(.invalidArgument, path: error.path, "log unusable after failed write: \(error)")
            throw error
        }
        if let file = current {
            // Give back the preallocated tail; the file's end is then its last record.
            _ = ftruncate(file.fd, off_t(file.writtenLength))
            rolled.append(file)
        }
        current = nil
    }

    /// Commits anything pending and closes the file.
    package func close() throws(PersistenceError) {
        if failed == nil && (bufferedEntries > 0 || !rolled.isEmpty) { try commit() }
        if let file = current { closeDescriptor(file.fd) }
        for file in rolled { closeDescriptor(file.fd) }
        current = nil
        rolled = []
        failed = PersistenceError(.invalidArgument, "log closed")
    }

    private func openFile(firstZxid: Int64) throws(PersistenceError) {
        let path = directory + "/" + PersistenceLayout.logName(firstZxid)
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw FileIO.error("cannot create log file (recover first; Recovery removes dead tails)", path)
        }
        current = OpenFile(fd: fd, path: path, writtenLength: 0, allocatedLength: 0, isNew: true)
        buffer.append(contentsOf: PersistenceLayout.fileHeader(magic: PersistenceLayout.logMagic))
    }

    private func flushBuffer() throws(PersistenceError) {
        guard var file = current, !buffer.isEmpty else { return }
        let end = file.writtenLength + buffer.count
        if preallocationSize > 0 && end > file.allocatedLength {
            var target = file.allocatedLength
            while target < end { target += preallocationSize }
            try FileIO.preallocate(file.fd, offset: file.allocatedLength, length: target - file.allocatedLength, path: file.path)
            file.allocatedLength = target
        }
        try FileIO.writeAll(file.fd, buffer, at: file.writtenLength, path: file.path)
        file.writtenLength = end
        current = file
        buffer.removeAll(keepingCapacity: true)
        bufferedEntries = 0
    }

    private func appendBigEndian(_ value: UInt64, bytes: Int) {
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) {
            buffer.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

private func closeDescriptor(_ fd: Int32) { _ = close(fd) }
