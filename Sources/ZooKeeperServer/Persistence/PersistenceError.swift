/// Why a persistence operation failed. Disk input never traps: bad files end up here or as a
/// ``RecoveryWarning``.
package struct PersistenceError: Error, CustomStringConvertible, Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        /// A system call failed (`errno` kept).
        case io(errno: Int32)
        /// A caller mistake: zxids not increasing, an entry too large or without a TxnHeader, a closed log.
        case invalidArgument
        /// A file is not what its name says (wrong magic, unsupported version, bad checksum, truncated).
        case corruptFile
        /// Strict recovery found damage it would otherwise have repaired.
        case corruptLog
    }

    package var kind: Kind
    /// The file concerned, when there is one.
    package var path: String?
    package var message: String

    package init(_ kind: Kind, path: String? = nil, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    package var description: String {
        var text = message
        if let path { text += " (\(path))" }
        if case .io(let code) = kind { text += ": errno \(code)" }
        return text
    }
}
