import Foundation
import Testing
import ZooKeeperProtocol

/// What the Swift side must do with one line of `java-jute-vectors.txt`.
struct JavaVectorExpectation: Sendable {
    /// Checks the Java bytes, recording issues under the case's name.
    let check: @Sendable (_ name: String, _ javaBytes: [UInt8]) -> Void

    /// Decodes to `value` and `value` encodes to exactly the Java bytes.
    static func roundTrip<T: JuteCodable & Equatable>(_ value: T) -> Self {
        decodes(value, reencodedAs: { $0 })
    }

    /// Decodes to `value`; `value` encodes to `reencodedAs(javaBytes)` (a canonical form that differs from Java's).
    static func decodes<T: JuteCodable & Equatable>(
        _ value: T, reencodedAs expected: @escaping @Sendable ([UInt8]) -> [UInt8]
    ) -> Self {
        Self { name, javaBytes in
            switch decodeOutcome(T.self, javaBytes) {
            case let .success(decoded):
                #expect(decoded == value, "\(name): decoded \(decoded), expected \(value)")
            case let .failure(error):
                Issue.record("\(name): decoding Java's bytes failed: \(error)")
            }
            let encoded = value.juteBytes()
            let wanted = expected(javaBytes)
            #expect(encoded == wanted, "\(name): encoded \(hex(encoded)), Java \(hex(wanted))")
        }
    }

    /// Decoding must fail with `error`.
    static func rejected<T: JuteDecodable>(_ type: T.Type, _ error: JuteDecodingError) -> Self {
        Self { name, javaBytes in
            switch decodeOutcome(T.self, javaBytes) {
            case let .success(decoded): Issue.record("\(name): expected \(error), decoded \(decoded)")
            case let .failure(actual): #expect(actual == error, "\(name)")
            }
        }
    }
}

/// Golden vectors written by Apache ZooKeeper's own jute classes (see FixtureGenerator/).
@Suite struct JavaVectorTests {
    /// (name, bytes) for every case in the fixture file, in file order.
    static func loadCases() throws -> [(name: String, bytes: [UInt8])] {
        let url = try #require(Bundle.module.url(forResource: "java-jute-vectors", withExtension: "txt", subdirectory: "Fixtures"))
        let text = try String(contentsOf: url, encoding: .utf8)
        var cases: [(name: String, bytes: [UInt8])] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            try #require(parts.count == 2, "malformed fixture line: \(line)")
            let decoded = try #require(bytes(hex: String(parts[1])), "bad hex in: \(line)")
            cases.append((String(parts[0]), decoded))
        }
        return cases
    }

    @Test func everyJavaVectorMatches() throws {
        let cases = try Self.loadCases()
        #expect(cases.count >= 80)
        for (name, javaBytes) in cases {
            guard let expectation = JavaValues.expectations[name] else {
                Issue.record("fixture case \(name) has no Swift counterpart check")
                continue
            }
            expectation.check(name, javaBytes)
        }
    }

    @Test func everySwiftCheckHasAJavaVector() throws {
        let names = Set(try Self.loadCases().map(\.name))
        for name in JavaValues.expectations.keys.sorted() where !names.contains(name) {
            Issue.record("Swift check \(name) has no line in java-jute-vectors.txt; rerun generate.sh")
        }
    }

    @Test func namesAreUnique() throws {
        let names = try Self.loadCases().map(\.name)
        #expect(Set(names).count == names.count)
    }

    /// Every jute record (all modules) appears at least once, by its base name.
    @Test func everyRecordIsCovered() throws {
        let covered = Set(try Self.loadCases().map { String($0.name.split(separator: "#")[0]) })
        let records = [
            "Id", "ACL", "Stat", "StatPersisted", "ClientInfo", "ConnectRequest", "ConnectResponse", "SetWatches",
            "SetWatches2", "RequestHeader", "MultiHeader", "AuthPacket", "ReplyHeader", "GetDataRequest",
            "SetDataRequest", "ReconfigRequest", "SetDataResponse", "GetSASLRequest", "SetSASLRequest",
            "SetSASLResponse", "CreateRequest", "CreateTTLRequest", "DeleteRequest", "GetChildrenRequest",
            "GetAllChildrenNumberRequest", "GetChildren2Request", "CheckVersionRequest", "GetMaxChildrenRequest",
            "GetMaxChildrenResponse", "SetMaxChildrenRequest", "SyncRequest", "SyncResponse", "GetACLRequest",
            "SetACLRequest", "SetACLResponse", "AddWatchRequest", "WatcherEvent", "ErrorResponse", "CreateResponse",
            "Create2Response", "ExistsRequest", "ExistsResponse", "GetDataResponse", "GetChildrenResponse",
            "GetAllChildrenNumberResponse", "GetChildren2Response", "GetACLResponse", "CheckWatchesRequest",
            "RemoveWatchesRequest", "GetEphemeralsRequest", "GetEphemeralsResponse", "WhoAmIResponse",
            "LearnerInfo", "QuorumPacket", "QuorumAuthPacket", "FileHeader", "TxnDigest", "TxnHeader",
            "CreateTxnV0", "CreateTxn", "CreateTTLTxn", "CreateContainerTxn", "DeleteTxn", "SetDataTxn",
            "CheckVersionTxn", "SetACLTxn", "SetMaxChildrenTxn", "CreateSessionTxn", "CloseSessionTxn", "ErrorTxn",
            "Txn", "MultiTxn", "MultiOperationRecord", "MultiResponse",
        ]
        for record in records where !covered.contains(record) {
            Issue.record("no Java vector for \(record)")
        }
    }
}
