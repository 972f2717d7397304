import Testing
import ZooKeeperProtocol

/// Multi framing details beyond the Java vectors (facts §1.4).
@Suite struct MultiRecordTests {
    let stat = JavaValues.stat

    @Test func operationHeadersCarryTypeAndMinusOne() throws {
        let record = MultiOperationRecord(ops: [.delete(DeleteRequest(path: "/a", version: 2))])
        var reader = JuteReader(record.juteBytes())
        #expect(try reader.read(MultiHeader.self) == MultiHeader(type: 2, done: false, err: -1))
        #expect(try reader.read(DeleteRequest.self) == DeleteRequest(path: "/a", version: 2))
        #expect(try reader.read(MultiHeader.self) == MultiHeader(type: -1, done: true, err: -1))
        try reader.expectEnd()
    }

    @Test func errorResultsPutTheCodeInHeaderAndBody() throws {
        let bytes = MultiResponse(results: [.error(.badVersion), .error(.ok), .delete]).juteBytes()
        #expect(
            bytes
                == h(
                    "ffffffff 00 ffffff99 ffffff99" + "ffffffff 00 00000000 00000000" + "00000002 00 00000000"
                        + "ffffffff 01 ffffffff"))
    }

    @Test func opCodes() throws {
        let request = CreateRequest(path: "/a", data: [], acl: [], flags: 0)
        let ops: [(MultiOperation, OpCode)] = [
            (.create(request), .create), (.create2(request), .create2), (.createContainer(request), .createContainer),
            (.createTTL(CreateTTLRequest(path: "/a", data: [], acl: [], flags: 5, ttl: 1)), .createTTL),
            (.delete(DeleteRequest(path: "/a", version: 0)), .delete),
            (.setData(SetDataRequest(path: "/a", data: [], version: 0)), .setData),
            (.check(CheckVersionRequest(path: "/a", version: 0)), .check),
            (.getChildren(GetChildrenRequest(path: "/a", watch: false)), .getChildren),
            (.getData(GetDataRequest(path: "/a", watch: false)), .getData),
        ]
        for (op, code) in ops {
            #expect(op.opCode == code)
            #expect(op.path == "/a")
            let record = MultiOperationRecord(ops: [op])
            #expect(try MultiOperationRecord(juteBytes: record.juteBytes()) == record)
        }
    }

    @Test(arguments: [OpCode.create2, .createTTL, .createContainer])
    func create2ResultKeepsItsHeaderType(opCode: OpCode) throws {
        let response = MultiResponse(results: [.create2(Create2Response(path: "/x", stat: stat), opCode: opCode)])
        let bytes = response.juteBytes()
        #expect(Array(bytes.prefix(4)) == JuteWriter.int32Bytes(opCode.rawValue))
        #expect(try MultiResponse(juteBytes: bytes) == response)
        #expect(response.results[0].opCode == opCode)
    }

    @Test func errorCodeComesFromTheBodyLikeJava() throws {
        // Header err 0 but body -110: Java's MultiResponse.deserialize trusts the body.
        let bytes = h("ffffffff 00 00000000 ffffff92 ffffffff 01 ffffffff")
        #expect(try MultiResponse(juteBytes: bytes) == MultiResponse(results: [.error(.nodeExists)]))
    }

    @Test func endMarkerIsAnyDoneHeader() throws {
        // Like Java, decoding stops at the first header with done == true, whatever its type and err.
        #expect(try MultiResponse(juteBytes: h("00000005 01 00000000")) == MultiResponse(results: []))
        #expect(try MultiOperationRecord(juteBytes: h("00000001 01 00000000")) == MultiOperationRecord(ops: []))
    }
}

extension JuteWriter {
    static func int32Bytes(_ value: Int32) -> [UInt8] {
        var writer = JuteWriter()
        writer.write(value)
        return writer.bytes
    }
}
