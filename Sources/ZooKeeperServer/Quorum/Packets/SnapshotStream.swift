import ZooKeeperProtocol

/// Apache's snapshot body as it follows a SNAP packet on the learner channel (`ZKDatabase.serializeSnapshot`
/// → `DataTree.serialize`): sessions, the ACL cache, the nodes in pre-order (the root as `""`), the
/// terminator `"/"` and the signature `"BenWasHere"`. No header, CRC or digest.
enum SnapshotStream {
    static let signature = "BenWasHere"
    /// `ReferenceCountedACLCache.OPEN_UNSAFE_ACL_ID`: a null ACL, read as world:anyone ALL.
    static let openUnsafeACLReference: Int64 = -1

    /// The stream for `database`, as an Apache leader writes it.
    static func encode(_ database: ZooKeeperDatabase) -> [UInt8] {
        let tree = database.tree
        var writer = JuteWriter(capacity: tree.approximateDataSize + 100 * tree.nodes.count)
        writer.write(Int32(database.sessions.count))
        for (id, timeout) in database.sessions.sorted(by: { $0.key < $1.key }) {
            writer.write(id)
            writer.write(timeout)
        }
        // One cache entry per distinct ACL, numbered from 1 as Apache's cache does.
        var references: [[ACL]: Int64] = [:]
        var ordered: [[ACL]] = []
        for path in tree.nodes.keys.sorted() where !systemPaths.contains(path) {
            let acl = tree.nodes[path]!.acl
            if references[acl] == nil {
                ordered.append(acl)
                references[acl] = Int64(ordered.count)
            }
        }
        writer.write(Int32(ordered.count))
        for (index, acl) in ordered.enumerated() {
            writer.write(Int64(index + 1))
            writer.writeVector(acl)
        }
        // Pre-order: every parent before its children.
        var stack = ["/"]
        while let path = stack.popLast() {
            guard let node = tree.nodes[path] else { continue }
            writer.writeString(path == "/" ? "" : path)
            writer.writeBuffer(node.data)
            writer.write(systemPaths.contains(path) ? openUnsafeACLReference : references[node.acl]!)
            writer.write(node.stat)
            let prefix = path == "/" ? "/" : path + "/"
            stack += node.children.sorted(by: >).map { prefix + $0 }
        }
        writer.writeString("/")
        writer.writeString(signature)
        return writer.bytes
    }

    /// The nodes Apache writes with a null ACL reference.
    private static let systemPaths: Set<String> = ["/", DataTree.procZookeeper, DataTree.quotaZookeeper]
}

/// Reads the SNAP stream incrementally: ``consume(_:)`` takes whatever bytes have arrived and parses every
/// complete element, so a large snapshot is read in one pass whatever the socket's chunking.
struct SnapshotStreamReader {
    private enum Stage {
        case sessionCount
        case sessions(remaining: Int)
        case aclCount
        case acls(remaining: Int)
        case nodes
        case signature
        case done
    }

    private var stage = Stage.sessionCount
    private(set) var sessions: [Int64: Int32] = [:]
    private var acls: [Int64: [ACL]] = [:]
    private(set) var nodes: [String: DataNode] = [:]
    let maxLength: Int

    init(maxLength: Int) { self.maxLength = maxLength }

    var isComplete: Bool { if case .done = stage { true } else { false } }

    /// Parses the complete elements at the start of `input`; returns how many bytes were consumed.
    mutating func consume(_ input: ArraySlice<UInt8>) throws(JuteDecodingError) -> Int {
        var reader = JuteReader(input, maxLength: maxLength)
        var consumed = 0
        do {
            while !isComplete {
                try step(&reader)
                consumed = reader.offset
            }
        } catch .truncated {
            // The element is not all here yet: resume from its start with more bytes.
        }
        return consumed
    }

    private mutating func step(_ reader: inout JuteReader) throws(JuteDecodingError) {
        switch stage {
        case .sessionCount:
            let count = try reader.readInt32()
            guard count >= 0 else { throw .negativeLength(count) }
            stage = .sessions(remaining: Int(count))
        case let .sessions(remaining):
            guard remaining > 0 else { stage = .aclCount; return }
            let id = try reader.readInt64()
            sessions[id] = try reader.readInt32()
            stage = .sessions(remaining: remaining - 1)
        case .aclCount:
            let count = try reader.readInt32()
            guard count >= 0 else { throw .negativeLength(count) }
            stage = .acls(remaining: Int(count))
        case let .acls(remaining):
            guard remaining > 0 else { stage = .nodes; return }
            let reference = try reader.readInt64()
            acls[reference] = try reader.readVector(of: ACL.self)
            stage = .acls(remaining: remaining - 1)
        case .nodes:
            let path = try reader.readString()
            if path == "/" { stage = .signature; return }
            let data = try reader.readBuffer()
            let reference = try reader.readInt64()
            let stat = try reader.read(StatPersisted.self)
            let acl: [ACL]
            if reference == SnapshotStream.openUnsafeACLReference {
                acl = .openACLUnsafe
            } else {
                guard let cached = acls[reference] else { throw .invalidValue(field: "snapshot.aclRef", value: reference) }
                acl = cached
            }
            let key = path.isEmpty ? "/" : path
            if key != "/" {
                // DataTree.deserialize: the parent must already be there.
                guard let parent = javaParentPath(key), nodes[parent.isEmpty ? "/" : parent] != nil else {
                    throw .invalidValue(field: "snapshot.parent", value: 0)
                }
                nodes[parent.isEmpty ? "/" : parent]!.children.insert(childName(key))
            }
            nodes[key] = DataNode(data: data, acl: acl, stat: stat)
        case .signature:
            let signature = try reader.readString()
            guard signature == SnapshotStream.signature else {
                throw .invalidValue(field: "snapshot.signature", value: Int64(signature.utf8.count))
            }
            stage = .done
        case .done:
            return
        }
    }
}
