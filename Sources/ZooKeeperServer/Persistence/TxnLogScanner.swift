#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ZooKeeperProtocol

/// Reads one transaction log file and says exactly where and why its valid part ends. Never traps on
/// bad input; a preallocated zero tail reads as the end of the log, as in Apache's `FileTxnIterator`.
package struct TxnLogScanner {
    package struct Record: Sendable {
        package var zxid: Int64
        package var entry: [UInt8]
        /// Offset of the record (its checksum) in the file.
        package var offset: Int
    }

    package enum Ending: Sendable, Equatable {
        /// End of file exactly after a record.
        case clean
        /// A zero length field followed only by zeros: preallocated space.
        case endMarker(offset: Int)
        /// An incomplete or invalid record with nothing but zeros after it: a write cut short by a crash.
        case torn(offset: Int, reason: String)
        /// An invalid record with data after it: damage, not a crash.
        case corrupt(offset: Int, reason: String)
        /// Shorter than a FileHeader, or a header of zeros: the file was being created.
        case incompleteHeader
        /// Not a version-2 transaction log.
        case badHeader(reason: String)
    }

    package struct Result: Sendable {
        package var records: [Record]
        /// The offset just after the last valid record (after the header when there is none; 0 if no header).
        package var validEnd: Int
        package var ending: Ending
        package var fileSize: Int
    }

    /// A crash while the header itself was written: what reached the disk is the start of the header we write
    /// (``PersistenceLayout/fileHeader(magic:)``), then only zeros to the end of the file.
    private static func isTornHeader(_ header: [UInt8], _ reader: BufferedFileReader) throws(PersistenceError) -> Bool {
        let written = PersistenceLayout.fileHeader(magic: PersistenceLayout.logMagic)
        guard header != written, let last = header.lastIndex(where: { $0 != 0 }),
              header[...last].elementsEqual(written[...last]) else { return false }
        return try reader.onlyZeros(from: PersistenceLayout.fileHeaderSize)
    }

    /// Scans `path`. Throws only for I/O errors (a missing or unreadable file).
    package static func scan(_ path: String) throws(PersistenceError) -> Result {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FileIO.error("open failed", path) }
        defer { _ = close(fd) }
        var reader = BufferedFileReader(fd: fd, path: path)
        let fileSize = try FileIO.fileSize(path)
        var result = Result(records: [], validEnd: 0, ending: .clean, fileSize: fileSize)

        let header = try reader.read(PersistenceLayout.fileHeaderSize)
        var incomplete = header.count < PersistenceLayout.fileHeaderSize || header.allSatisfy({ $0 == 0 })
        if !incomplete { incomplete = try isTornHeader(header, reader) }
        if incomplete {
            result.ending = .incompleteHeader
            return result
        }
        do {
            let fileHeader = try FileHeader(juteBytes: header)
            if fileHeader.magic != PersistenceLayout.logMagic {
                result.ending = .badHeader(reason: "invalid magic number \(fileHeader.magic) != \(PersistenceLayout.logMagic) (ZKLG)")
                return result
            }
            if fileHeader.version != PersistenceLayout.version {
                result.ending = .badHeader(reason: "unsupported version \(fileHeader.version)")
                return result
            }
        } catch {
            result.ending = .badHeader(reason: "unreadable FileHeader")
            return result
        }
        result.validEnd = PersistenceLayout.fileHeaderSize

        var previousZxid = Int64.min
        while true {
            let offset = reader.position
            let prefix = try reader.read(12)
            if prefix.isEmpty {
                result.ending = .clean
                return result
            }
            func bad(_ reason: String, resumeAt: Int) throws(PersistenceError) -> Ending {
                if try reader.onlyZeros(from: resumeAt) {
                    return .torn(offset: offset, reason: reason)
                }
                return .corrupt(offset: offset, reason: reason)
            }
            if prefix.count < 12 {
                result.ending = .torn(offset: offset, reason: "record header cut short at end of file")
                return result
            }
            let checksum = UInt64(bigEndian: prefix[0..<8])
            let length = Int32(bitPattern: UInt32(UInt64(bigEndian: prefix[8..<12])))
            if length == 0 {
                // Apache: "Since we preallocate, we define EOF to be an empty transaction".
                if checksum == 0, try reader.onlyZeros(from: offset + 12) {
                    result.ending = .endMarker(offset: offset)
                } else {
                    result.ending = try bad("empty record with data after it", resumeAt: offset + 12)
                }
                return result
            }
            if length < 0 || Int(length) > PersistenceLayout.maxEntrySize {
                result.ending = try bad("unreasonable entry length \(length)", resumeAt: offset + 12)
                return result
            }
            let body = try reader.read(Int(length) + 1)
            if body.count < Int(length) + 1 {
                result.ending = .torn(offset: offset, reason: "record cut short at end of file")
                return result
            }
            let end = offset + 12 + Int(length) + 1
            let entry = Array(body[0..<Int(length)])
            if body[Int(length)] != PersistenceLayout.endOfRecord {
                result.ending = try bad("missing end-of-record byte", resumeAt: end)
                return result
            }
            if checksum != UInt64(Adler32.checksum(entry)) {
                result.ending = try bad("checksum mismatch (CRC check failed)", resumeAt: end)
                return result
            }
            guard let zxid = PersistenceLayout.zxid(ofEntry: entry) else {
                result.ending = try bad("entry too short for a TxnHeader", resumeAt: end)
                return result
            }
            if zxid <= previousZxid {
                result.ending = .corrupt(offset: offset, reason: "zxid \(hex(zxid)) not above the previous \(hex(previousZxid))")
                return result
            }
            previousZxid = zxid
            result.records.append(Record(zxid: zxid, entry: entry, offset: offset))
            result.validEnd = end
        }
    }
}

func hex(_ zxid: Int64) -> String { "0x" + PersistenceLayout.hex(zxid) }

extension UInt64 {
    init(bigEndian bytes: ArraySlice<UInt8>) {
        var value: UInt64 = 0
        for byte in bytes { value = value << 8 | UInt64(byte) }
        self = value
    }
}

/// Sequential reads through a 64 KiB buffer.
struct BufferedFileReader {
    let fd: Int32
    let path: String
    private var buffer: [UInt8] = []
    private var cursor = 0
    private var fileOffset = 0

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    var position: Int { fileOffset - (buffer.count - cursor) }

    /// Up to `count` bytes; fewer only at end of file.
    mutating func read(_ count: Int) throws(PersistenceError) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            if cursor == buffer.count {
                if try !fill() { break }
            }
            let take = min(count - result.count, buffer.count - cursor)
            result.append(contentsOf: buffer[cursor..<cursor + take])
            cursor += take
        }
        return result
    }

    private mutating func fill() throws(PersistenceError) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(fileOffset)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileIO.error("read failed", path)
            }
            if count == 0 { return false }
            buffer = Array(chunk[0..<count])
            cursor = 0
            fileOffset += count
            return true
        }
    }

    /// Whether every byte from `offset` to the end of the file is zero (independent of the cursor).
    /// A preallocated tail is tens of MiB per log file and every file is checked at start-up, so the
    /// comparison is libc's `memcmp` against zeros (a byte loop made restarts take seconds per file).
    func onlyZeros(from offset: Int) throws(PersistenceError) -> Bool {
        let size = 1 << 20
        var chunk = [UInt8](repeating: 0, count: size)
        let zeros = [UInt8](repeating: 0, count: size)
        var at = offset
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(at)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileIO.error("read failed", path)
            }
            if count == 0 { return true }
            let same = chunk.withUnsafeBytes { read in zeros.withUnsafeBytes { memcmp(read.baseAddress!, $0.baseAddress!, count) } }
            if same != 0 { return false }
            at += count
        }
    }
}
