import ZooKeeperProtocol

/// The values cases are built from: the fuzz subtree's paths, valid and hostile paths and ACLs.
/// Writes stay under ``root`` so that the canary and the probes of the driver are never touched.
enum FuzzVocabulary {
    /// Every well-formed write targets this subtree.
    static let root = "/fuzz"
    private static let names = ["a", "b", "c", "d", "e"]
    /// The fuzz users' credentials (digest auth); the super password is never among them.
    static let credentials = ["alice:secret", "bob:hunter2", "eve:", ":nopass", "carol:with:colons"]

    /// A path in the fuzz subtree, 0–3 levels below ``root`` (a small space, so that creates,
    /// deletes and reads meet the same nodes and the tree stays bounded).
    static func fuzzPath(_ random: inout FuzzRandom) -> String {
        var path = root
        for _ in 0..<random.int(0...3) { path += "/" + random.pick(names) }
        return path
    }

    /// Paths reads may target: the fuzz subtree, the system nodes, missing ones.
    static func readPath(_ random: inout FuzzRandom) -> String {
        random.chance(0.75) ? fuzzPath(&random)
            : random.pick(["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "/missing", "/fuzz/zz/yy"])
    }

    /// Paths every server must refuse (as a UTF-8 string; see ``hostilePathBytes`` for invalid UTF-8).
    static let hostilePaths: [String] = [
        "", "fuzz", "fuzz/a", "/fuzz/", "//", "/fuzz//a", "/fuzz/./a", "/fuzz/../a", "/fuzz/.", "/fuzz/..",
        "/.", "/..", "/fuzz/a\u{0}b", "/fuzz/\u{0}", "\u{0}", "/fuzz/\u{1}", "/fuzz/tab\u{9}", "/fuzz/\u{7F}",
        "/fuzz/\u{9F}", "/fuzz/\u{E000}", "/fuzz/\u{FFF0}", "/fuzz/\u{FFFF}", "/fuzz/\u{1F600}", "/fuzz/a/",
        " /fuzz", "/fuzz/ /", "/zookeeper/", "/fuzz\\a/",
    ]

    /// A hostile path as the bytes of a jute string (length prefix included): the list above, invalid
    /// UTF-8, a 64 KiB path with a `.` segment, or a null string (length -1).
    static func hostilePathBytes(_ random: inout FuzzRandom) -> [UInt8] {
        switch random.int(0...9) {
        case 0: return RawConnection.int32(3) + [0x2F, 0xC3, 0x28]  // "/" + a broken two-byte sequence
        case 1: return RawConnection.int32(4) + [0x2F, 0xED, 0xA0, 0x80]  // an encoded surrogate
        case 2: return RawConnection.string("/fuzz/" + String(repeating: "x", count: 65_536) + "/./y")
        case 3: return RawConnection.int32(-1)
        default: return RawConnection.string(random.pick(hostilePaths))
        }
    }

    static func data(_ random: inout FuzzRandom) -> [UInt8] {
        random.chance(0.05) ? random.bytes(random.int(1_000...8_000)) : random.bytes(random.int(0...64))
    }

    /// An ACL list a server accepts (assuming the session authenticated for `auth`).
    static func validACL(_ random: inout FuzzRandom) -> [ACL] {
        let credential = random.pick(credentials)
        let parts = credential.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        switch random.int(0...6) {
        case 0: return .readACLUnsafe
        case 1: return [ACL.digest(user: String(parts[0]), password: parts.count > 1 ? String(parts[1]) : "", perms: .all)]
        case 2: return [ACL(perms: .all, id: .authIds)]
        case 3: return [ACL.ip("127.0.0.1", perms: .all), ACL.world(.read)]
        case 4: return [ACL.ip("10.0.0.0/8", perms: .all), ACL.world([.read, .create, .delete])]
        default: return .openACLUnsafe
        }
    }

    /// ACL lists a server must refuse (INVALIDACL) in create and setACL.
    static func hostileACL(_ random: inout FuzzRandom) -> [ACL] {
        switch random.int(0...11) {
        case 0: return []
        case 1: return [ACL(perms: .all, id: Id(scheme: "world", id: "nobody"))]
        case 2: return [ACL(perms: .all, id: Id(scheme: "unknown", id: "x"))]
        case 3: return [ACL(perms: .all, id: Id(scheme: "digest", id: "no-colon"))]
        case 4: return [ACL(perms: .all, id: Id(scheme: "ip", id: "300.1.1.1"))]
        case 5: return [ACL(perms: .all, id: Id(scheme: "ip", id: "10.0.0.0/99"))]
        case 6: return [ACL(perms: .all, id: Id(scheme: "ip", id: "::1"))]
        case 7: return [ACL(perms: .all, id: Id(scheme: "super", id: ""))]
        case 8: return [ACL(perms: .all, id: Id(scheme: "", id: ""))]
        case 9: return [ACL(perms: .all, id: Id(scheme: "ip", id: "1.2.3.4/-1"))]
        case 10: return .openACLUnsafe + [ACL(perms: .all, id: Id(scheme: "x509", id: "CN=x"))]
        default:
            // Thousands of entries, the last one invalid.
            return (0..<2_000).map { ACL(perms: .all, id: .ip("10.0.\($0 / 250).\($0 % 250)")) }
                + [ACL(perms: .all, id: Id(scheme: "digest", id: "a:b:c"))]
        }
    }

    /// ACL lists that are odd but valid: no permissions, every bit set, negative perms.
    static func oddValidACL(_ random: inout FuzzRandom) -> [ACL] {
        let perms = Permissions(rawValue: random.pick([0, 31, -1, Int32.max, Int32.min, 64]))
        return [ACL(perms: perms, id: .anyone)]
    }
}
