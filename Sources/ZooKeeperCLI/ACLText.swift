import ZooKeeperProtocol

/// zkCli's ACL text: `scheme:id:perms[,…]` in, `'scheme,'id` / `: perms` out (`AclParser`, `GetAclCommand`).
public enum ACLText {
    /// Parses like `AclParser.parse`: a malformed segment is reported and skipped; an unknown permission
    /// letter is reported and ignored. `messages` gets zkCli's sentences in order.
    public static func parse(_ text: String, messages: inout [String]) -> [ACL] {
        var acls: [ACL] = []
        for segment in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard let first = segment.firstIndex(of: ":"), let last = segment.lastIndex(of: ":"), first != last else {
                messages.append("\(segment) does not have the form scheme:id:perm")
                continue
            }
            let scheme = String(segment[..<first])
            let id = String(segment[segment.index(after: first)..<last])
            var perms: Permissions = []
            for letter in segment[segment.index(after: last)...] {
                if let p = Permissions(letters: String(letter)) { perms.formUnion(p) }
                else { messages.append("Unknown perm type: \(letter)") }
            }
            acls.append(ACL(perms: perms, id: Id(scheme: scheme, id: id)))
        }
        return acls
    }

    public static func lines(_ acls: [ACL]) -> [String] {
        acls.flatMap { ["'\($0.id.scheme),'\($0.id.id)", ": \($0.perms)"] }
    }
}
