/// Something recovery found on disk and what it did about it.
package struct RecoveryWarning: Sendable, Equatable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// A half-written record at the end of the log (normal after a crash): truncated away.
        case tornTail
        /// A snapshot that does not read back whole: skipped for an older one.
        case invalidSnapshot
        /// A damaged log record or file: replay stopped before it (acknowledged writes may be lost).
        case corruptLog
        /// A file moved out of the way (renamed with a `.corrupt` or `.discarded` suffix), never deleted.
        case setAside
        /// The log does not continue from the previous zxid: transactions are missing.
        case missingTransactions
    }

    package var kind: Kind
    package var path: String?
    package var message: String

    package var description: String {
        path.map { "\(message) (\($0))" } ?? message
    }
}

/// What start-up recovery found: the snapshot to load and the log entries to replay on top of it.
package struct RecoveredState: Sendable {
    package struct Entry: Sendable, Equatable {
        package var zxid: Int64
        /// The entry as appended (its TxnHeader first).
        package var entry: [UInt8]
    }

    /// The zxid of the snapshot loaded, nil when there was none (start from an empty tree).
    package var snapshotZxid: Int64?
    package var snapshotTree: [UInt8]?
    /// The tree digest recorded after the snapshot's tree (nil: none, e.g. written with digests off).
    package var snapshotDigest: SnapshotDigest? = nil
    /// Entries with zxid above ``snapshotZxid``, ascending; apply them in order.
    package var entries: [Entry]
    /// The last zxid recovered (snapshot or entry); 0 on a fresh start. The next transaction gets a higher one.
    package var lastZxid: Int64
    /// Damage found and repaired; empty after a clean shutdown.
    package var warnings: [RecoveryWarning]
}

/// Start-up recovery (Apache's `FileTxnSnapLog.restore`): the newest valid snapshot, then every log
/// entry after it.
package enum Recovery {
    /// Loads the newest valid snapshot (or none) and returns it with every log entry after its zxid,
    /// in order, and repairs the log so a new ``TxnLog`` can append after ``RecoveredState/lastZxid``.
    ///
    /// Run it once, before any ``TxnLog``, ``SnapshotStore/write(zxid:tree:)`` or ``Purger`` work starts.
    ///
    /// - Damaged snapshots are skipped for older ones (``RecoveryWarning/Kind/invalidSnapshot``).
    /// - A torn tail of the last log file (crash mid-write, before the fsync that would have
    ///   acknowledged it) is truncated. Preallocated zeros end the log, as in Apache.
    /// - A damaged record (bad checksum, no end-of-record byte, impossible length, zxids going
    ///   backwards) is never applied. Replay goes on with the next log file when that file starts no
    ///   later than needed (nothing lost, as when Apache left a torn file behind); otherwise it stops
    ///   there: in the default mode the damaged file is copied to `<name>.corrupt`, truncated before the
    ///   damage, later log files are renamed `<name>.discarded`, and a ``RecoveryWarning/Kind/corruptLog``
    ///   warning says so. With `strict`, it throws ``PersistenceError/Kind/corruptLog`` and changes
    ///   nothing instead (Apache refuses to start on a CRC error).
    package static func recover(dataDir: String, dataLogDir: String, strict: Bool = false) throws(PersistenceError) -> RecoveredState {
        var warnings: [RecoveryWarning] = []
        let store = SnapshotStore(directory: dataDir)
        if FileIO.isDirectory(store.directory) { try store.removeTemporaryFiles() }
        var skipped: [PersistenceError] = []
        let snapshot = try store.newestValid(skipped: &skipped)
        for error in skipped {
            warnings.append(RecoveryWarning(kind: .invalidSnapshot, path: error.path, message: "skipped damaged snapshot: \(error.message)"))
        }

        let logDirectory = PersistenceLayout.versionDirectory(of: dataLogDir)
        let logs = try PersistenceLayout.files(in: logDirectory, prefix: PersistenceLayout.logPrefix)
        // Apache's getLogFiles: the last file starting at or before the snapshot, and all later ones.
        let snapshotZxid = snapshot?.zxid
        let first = snapshotZxid.flatMap { zxid in logs.lastIndex { $0.zxid <= zxid } } ?? 0
        let chosen = Array(logs[first...])

        var entries: [RecoveredState.Entry] = []
        /// The last zxid covered so far: the snapshot's, then each applied entry's.
        var covered = snapshotZxid
        var stop: (index: Int, validEnd: Int, reason: String, badHeader: Bool)?

        fileLoop: for (index, log) in chosen.enumerated() {
            let path = logDirectory + "/" + log.name
            let scan = try TxnLogScanner.scan(path)
            var validEnd = scan.validEnd
            var ending = scan.ending
            for record in scan.records {
                if let snapshotZxid, record.zxid <= snapshotZxid { continue }
                if let previous = covered, record.zxid <= previous, !entries.isEmpty {
                    ending = .corrupt(offset: record.offset, reason: "zxid \(hex(record.zxid)) repeats or goes back after \(hex(previous))")
                    validEnd = record.offset
                    break
                }
                if let previous = covered, !PersistenceLayout.isContiguous(previous, record.zxid) {
                    warnings.append(RecoveryWarning(
                        kind: .missingTransactions, path: path,
                        message: "transactions missing between zxid \(hex(previous)) and \(hex(record.zxid))"))
                }
                entries.append(.init(zxid: record.zxid, entry: record.entry))
                covered = record.zxid
            }
            let isLast = index == chosen.count - 1
            let nextCovers: Bool = {
                guard !isLast else { return false }
                let nextStart = chosen[index + 1].zxid
                guard let covered else { return true }
                return nextStart <= covered || PersistenceLayout.isContiguous(covered, nextStart)
            }()
            switch ending {
            case .clean, .endMarker:
                continue
            case .incompleteHeader, .torn:
                let reason: String
                if case .torn(let offset, let why) = ending { reason = "\(why) at offset \(offset)" } else { reason = "incomplete file header" }
                if isLast {
                    if scan.records.isEmpty {
                        try FileIO.remove(path)
                        try FileIO.syncDirectory(logDirectory)
                        warnings.append(RecoveryWarning(kind: .tornTail, path: path, message: "removed log file holding no complete record (\(reason))"))
                    } else {
                        try FileIO.truncate(path, to: validEnd)
                        warnings.append(RecoveryWarning(kind: .tornTail, path: path, message: "truncated torn tail to \(validEnd) bytes (\(reason))"))
                    }
                } else if !nextCovers {
                    stop = (index, validEnd, reason, false)
                    break fileLoop
                }
            case .corrupt(let offset, let reason):
                let message = "\(reason) at offset \(offset)"
                if nextCovers {
                    warnings.append(RecoveryWarning(kind: .corruptLog, path: path, message: "damaged record skipped, the next log file continues: \(message)"))
                    continue
                }
                stop = (index, validEnd, message, false)
                break fileLoop
            case .badHeader(let reason):
                if nextCovers {
                    warnings.append(RecoveryWarning(kind: .corruptLog, path: path, message: "unreadable log file skipped, the next log file continues: \(reason)"))
                    continue
                }
                stop = (index, validEnd, reason, true)
                break fileLoop
            }
        }

        if let stop {
            let path = logDirectory + "/" + chosen[stop.index].name
            let later = chosen[(stop.index + 1)...]
            let lost = later.isEmpty ? "" : "; \(later.count) later log file(s) not replayed"
            let message = "replay stopped after zxid \(covered.map(hex) ?? "none"): \(stop.reason)\(lost)"
            if strict {
                throw PersistenceError(.corruptLog, path: path, message)
            }
            warnings.append(RecoveryWarning(kind: .corruptLog, path: path, message: message))
            // Later files first: a crash part-way leaves the damage in place to be found again.
            for log in later.reversed() {
                let source = logDirectory + "/" + log.name
                try FileIO.rename(source, to: source + ".discarded")
                warnings.append(RecoveryWarning(kind: .setAside, path: source + ".discarded", message: "log file set aside, not replayed"))
            }
            if !later.isEmpty { try FileIO.syncDirectory(logDirectory) }
            let copy = path + ".corrupt"
            try FileIO.writeAtomically([try FileIO.readAll(path)], to: copy, temporary: copy + ".tmp")
            warnings.append(RecoveryWarning(kind: .setAside, path: copy, message: "damaged log file copied before truncation"))
            if stop.badHeader || stop.validEnd <= PersistenceLayout.fileHeaderSize {
                try FileIO.remove(path)
                try FileIO.syncDirectory(logDirectory)
            } else {
                try FileIO.truncate(path, to: stop.validEnd)
            }
        }

        return RecoveredState(
            snapshotZxid: snapshotZxid,
            snapshotTree: snapshot?.tree,
            snapshotDigest: snapshot?.digest,
            entries: entries,
            lastZxid: max(covered ?? 0, 0),
            warnings: warnings
        )
    }
}
