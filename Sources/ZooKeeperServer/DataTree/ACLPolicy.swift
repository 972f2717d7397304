import ZooKeeperProtocol

/// ACL checks and ACL validation exactly where and how Apache does them
/// (`ZooKeeperServer.checkACL`, `PrepRequestProcessor.fixupACL`, the `ip` and `digest` providers).
///
/// Session identities arrive as `Id`s: `("ip", "127.0.0.1")`, `("digest", "user:base64sha1")`, and
/// `("super", "")` for a super user (added by the digest provider when the super digest matches).
/// Only the built-in providers exist: `ip` (IPv4 and IPv4 CIDR, like Apache 3.8), `digest`; `world`
/// is special-cased, `auth` is expanded at create/setACL time.
package enum ACLPolicy {
    /// `ZooKeeperServer.checkACL`: passes when `acl` is empty, the session is super, or one entry
    /// grants any bit of `perm` to `world:anyone` or to one of the session's ids.
    package static func check(_ acl: [ACL], perm: Permissions, ids: [Id]) -> Bool {
        if acl.isEmpty { return true }
        if ids.contains(where: { $0.scheme == "super" }) { return true }
        for entry in acl where entry.perms.rawValue & perm.rawValue != 0 {
            let id = entry.id
            if id.scheme == "world" && id.id == "anyone" { return true }
            guard isProvider(id.scheme) else { continue }
            for authId in ids where authId.scheme == id.scheme {
                if matches(scheme: id.scheme, id: authId.id, aclExpr: id.id) { return true }
            }
        }
        return false
    }

    /// `PrepRequestProcessor.fixupACL`: removes duplicates, expands `auth` to the session's
    /// authenticated ids, validates the others. Throws `.invalidACL`.
    package static func fixup(_ acl: [ACL], ids: [Id]) throws(DataTreeError) -> [ACL] {
        var unique: [ACL] = []
        for entry in acl where !unique.contains(entry) { unique.append(entry) }
        if unique.isEmpty { throw DataTreeError(.invalidACL) }
        var result: [ACL] = []
        for entry in unique {
            let id = entry.id
            if id.scheme == "world" && id.id == "anyone" {
                result.append(entry)
            } else if id.scheme == "auth" {
                var valid = false
                // Only providers that authenticate (digest; not ip) contribute ids.
                for authId in ids where authId.scheme == "digest" {
                    valid = true
                    result.append(ACL(perms: entry.perms, id: authId))
                }
                if !valid { throw DataTreeError(.invalidACL) }
            } else {
                guard isProvider(id.scheme), isValid(scheme: id.scheme, id: id.id) else {
                    throw DataTreeError(.invalidACL)
                }
                result.append(entry)
            }
        }
        return result
    }

    /// getACL without ADMIN: digest ids come back as `user:x` (`id.replaceAll(":.*", ":x")`).
    package static func masked(_ acl: [ACL]) -> [ACL] {
        acl.map { entry in
            guard entry.id.scheme == "digest", let colon = entry.id.id.firstIndex(of: ":") else { return entry }
            return ACL(perms: entry.perms, id: Id(scheme: "digest", id: entry.id.id[..<colon] + ":x"))
        }
    }

    /// `AuthUtil.getClientInfos`: the user part the provider reports (`ip` → the address, `digest` →
    /// the user name, no provider (e.g. `super`) → "").
    package static func clientInfo(_ ids: [Id]) -> [ClientInfo] {
        ids.map { id in
            switch id.scheme {
            case "digest": return ClientInfo(authScheme: id.scheme, user: String(javaSplit(id.id, ":").first ?? ""))
            case "ip": return ClientInfo(authScheme: id.scheme, user: id.id)
            default: return ClientInfo(authScheme: id.scheme, user: "")
            }
        }
    }

    static func isProvider(_ scheme: String) -> Bool { scheme == "ip" || scheme == "digest" }

    static func isValid(scheme: String, id: String) -> Bool {
        switch scheme {
        case "digest": return javaSplit(id, ":").count == 2
        case "ip":
            let parts = id.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard ipv4Bytes(String(parts[0])) != nil else { return false }
            if parts.count == 2 {
                guard let bits = Int32(parts[1]), (0...32).contains(bits) else { return false }
            }
            return true
        default: return false
        }
    }

    static func matches(scheme: String, id: String, aclExpr: String) -> Bool {
        switch scheme {
        case "digest": return id == aclExpr
        case "ip": return ipMatches(address: id, aclExpr: aclExpr)
        default: return false
        }
    }

    /// `IPAuthenticationProvider.matches`: `a.b.c.d` or `a.b.c.d/bits`, IPv4 only (3.8).
    static func ipMatches(address: String, aclExpr: String) -> Bool {
        let parts = aclExpr.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard var aclAddr = ipv4Bytes(String(parts[0])) else { return false }
        var bits = 32
        if parts.count == 2 {
            guard let value = Int32(parts[1]), (0...32).contains(value) else { return false }
            bits = Int(value)
        }
        guard var remote = ipv4Bytes(address) else { return false }
        mask(&aclAddr, bits: bits)
        mask(&remote, bits: bits)
        return aclAddr == remote
    }

    private static func mask(_ bytes: inout [UInt8], bits: Int) {
        var index = bits / 8
        var startMask = ~UInt8(truncatingIfNeeded: (1 << (8 - bits % 8)) - 1)
        while index < bytes.count {
            bytes[index] &= startMask
            startMask = 0
            index += 1
        }
    }

    static func ipv4Bytes(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard let value = Int32(part), (0...255).contains(value) else { return nil }
            bytes.append(UInt8(value))
        }
        return bytes
    }

    /// Java's `String.split(regex)` for a literal separator: trailing empty strings are dropped.
    static func javaSplit(_ text: String, _ separator: Character) -> [Substring] {
        var parts = text.split(separator: separator, omittingEmptySubsequences: false)
        while parts.count > 1, parts.last?.isEmpty == true { parts.removeLast() }
        if parts.count == 1, parts[0].isEmpty { return [""] }
        return parts
    }
}
