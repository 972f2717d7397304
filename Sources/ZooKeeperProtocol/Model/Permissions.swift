/// ACL permission bits (`ZooDefs.Perms`): r=1, w=2, c=4, d=8, a=16.
public struct Permissions: OptionSet, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let read = Permissions(rawValue: 1)
    public static let write = Permissions(rawValue: 2)
    public static let create = Permissions(rawValue: 4)
    public static let delete = Permissions(rawValue: 8)
    public static let admin = Permissions(rawValue: 16)
    public static let all: Permissions = [.read, .write, .create, .delete, .admin]

    /// zkCli's letters, in its order: `cdrwa`.
    public var description: String {
        var text = ""
        if contains(.create) { text += "c" }
        if contains(.delete) { text += "d" }
        if contains(.read) { text += "r" }
        if contains(.write) { text += "w" }
        if contains(.admin) { text += "a" }
        return text
    }

    /// Parses zkCli's letters (`"cdrwa"`, any order); `nil` on any other character.
    public init?(letters: String) {
        var perms: Permissions = []
        for letter in letters {
            switch letter {
            case "c": perms.insert(.create)
            case "d": perms.insert(.delete)
            case "r": perms.insert(.read)
            case "w": perms.insert(.write)
            case "a": perms.insert(.admin)
            default: return nil
            }
        }
        self = perms
    }
}
