import Foundation

/// The lines a user entered, oldest first, with JLine's rules: capped (oldest dropped first), no line
/// twice in a row, no empty lines, and — as bash's `ignorespace` — nothing that begins with a space,
/// so a secret (`addauth digest user:password`) can be kept out of the file on purpose.
public struct History: Sendable, Equatable {
    /// JLine's default `history-size`.
    public static let defaultLimit = 500

    public private(set) var entries: [String]
    public let limit: Int

    public init(entries: [String] = [], limit: Int = History.defaultLimit) {
        self.limit = max(1, limit)
        self.entries = []
        for entry in entries { add(entry) }
    }

    /// Records `line`; returns whether it was kept.
    @discardableResult
    public mutating func add(_ line: String) -> Bool {
        guard !line.isEmpty, !line.hasPrefix(" "), !line.contains("\n"), entries.last != line else { return false }
        entries.append(line)
        if entries.count > limit { entries.removeFirst(entries.count - limit) }
        return true
    }
}

/// The history file: `~/.zk-cli_history`, one line per entry, oldest first.
public struct HistoryFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// `$HOME/.zk-cli_history` (the password database's home if `HOME` is unset), or nil if neither is known.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> HistoryFile? {
        var home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
        if home == nil, let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir {
            home = String(cString: directory)
        }
        guard let home else { return nil }
        return HistoryFile(path: (home as NSString).appendingPathComponent(".zk-cli_history"))
    }

    /// The saved entries (a missing or unreadable file is an empty history).
    public func load(limit: Int = History.defaultLimit) -> History {
        guard let data = FileManager.default.contents(atPath: path) else { return History(limit: limit) }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        return History(entries: lines, limit: limit)
    }

    /// Replaces the file with `history` (at most `limit` lines, so it never grows without bound).
    /// Owner-only: commands can carry credentials. Failure to save is not worth stopping a shell for.
    public func save(_ history: History) {
        let text = history.entries.map { $0 + "\n" }.joined()
        let temporary = path + ".tmp\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8),
                                             attributes: [.posixPermissions: 0o600])
        else { return }
        // rename: a crash mid-write leaves the old file, never half of one.
        if rename(temporary, path) != 0 { unlink(temporary) }
    }
}
