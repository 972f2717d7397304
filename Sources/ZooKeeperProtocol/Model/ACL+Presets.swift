// Well-known identities and ACLs (`ZooDefs.Ids`) and helpers for the built-in schemes.

extension Id {
    /// `world:anyone` (`ZooDefs.Ids.ANYONE_ID_UNSAFE`): every client, authenticated or not.
    public static let anyone = Id(scheme: "world", id: "anyone")

    /// `auth:` (`ZooDefs.Ids.AUTH_IDS`): in an ACL passed to create/setACL, the server replaces it
    /// with every identity the calling session has authenticated as.
    ///
    /// Notable behaviours: if the session has no authenticated identity (other than `ip`), the
    /// server rejects the request with `INVALIDACL`.
    public static let authIds = Id(scheme: "auth", id: "")

    /// A `digest` identity: `user:base64(sha1("user:password"))`, exactly as Apache ZooKeeper's
    /// `DigestAuthenticationProvider.generateDigest("user:password")` computes it (UTF-8 bytes).
    ///
    /// A session acquires this identity by sending `addAuth("digest", "user:password")`.
    /// Notable behaviours: the server splits the auth string at the *first* colon, so a `user`
    /// containing `:` can never authenticate; the password may contain colons.
    public static func digest(user: String, password: String) -> Id {
        let hash = SHA1.hash(Array("\(user):\(password)".utf8))
        return Id(scheme: "digest", id: "\(user):\(Base64.encode(hash))")
    }

    /// An `ip` identity: an IPv4/IPv6 address, optionally with a `/bits` prefix length
    /// (e.g. `"10.0.0.0/8"`), matched against the client's address by the server.
    public static func ip(_ address: String) -> Id {
        Id(scheme: "ip", id: address)
    }
}

extension Array where Element == ACL {
    /// `ZooDefs.Ids.OPEN_ACL_UNSAFE`: all permissions for `world:anyone`.
    public static var openACLUnsafe: [ACL] { [ACL(perms: .all, id: .anyone)] }

    /// `ZooDefs.Ids.CREATOR_ALL_ACL`: all permissions for the creator's authenticated ids (`auth:`).
    public static var creatorAllACL: [ACL] { [ACL(perms: .all, id: .authIds)] }

    /// `ZooDefs.Ids.READ_ACL_UNSAFE`: read permission for `world:anyone`.
    public static var readACLUnsafe: [ACL] { [ACL(perms: .read, id: .anyone)] }
}

extension ACL {
    /// An ACL entry for the `digest` identity of `user`/`password` (see ``Id/digest(user:password:)``).
    public static func digest(user: String, password: String, perms: Permissions) -> ACL {
        ACL(perms: perms, id: .digest(user: user, password: password))
    }

    /// An ACL entry for `world:anyone`.
    public static func world(_ perms: Permissions) -> ACL {
        ACL(perms: perms, id: .anyone)
    }

    /// An ACL entry for an `ip` identity (address or `address/bits`).
    public static func ip(_ address: String, perms: Permissions) -> ACL {
        ACL(perms: perms, id: .ip(address))
    }
}
