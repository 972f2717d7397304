import ZooKeeperProtocol

extension ZooKeeperClient {
    /// Sends one request and waits for its raw reply. The xid is assigned before the first suspension.
    func send(
        _ opCode: OpCode, _ record: (any JuteEncodable)?, path: String?, watch: WatchRegistration? = nil
    ) async throws -> RawReply {
        let waiter = ReplyWaiter()
        let body = record?.juteBytes() ?? []
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if waiter.install(continuation) {
                    core.enqueue(opCode: opCode, body: body, waiter: waiter, watch: watch)
                }
            }
        } onCancel: {
            waiter.resume(.failure(CancellationError()))
        }
    }

    /// Sends a request and decodes its response, turning a non-zero result into ``ZooKeeperError``.
    func call<Response: JuteDecodable>(
        _ opCode: OpCode, _ record: (any JuteEncodable)?, path: String?, as type: Response.Type,
        watch: WatchRegistration? = nil
    ) async throws -> Response {
        let reply = try await send(opCode, record, path: path, watch: watch)
        try check(reply, path: path)
        return try decode(reply, as: type, path: path)
    }

    /// Sends a request whose success has no body.
    func callVoid(_ opCode: OpCode, _ record: (any JuteEncodable)?, path: String?) async throws {
        let reply = try await send(opCode, record, path: path)
        try check(reply, path: path)
    }

    func check(_ reply: RawReply, path: String?) throws {
        guard reply.err == .ok else { throw ZooKeeperError(reply.err, path: path) }
    }

    func decode<Response: JuteDecodable>(_ reply: RawReply, as type: Response.Type, path: String?) throws -> Response {
        do {
            var reader = JuteReader(reply.body, maxLength: configuration.maxFrameLength)
            return try Response(from: &reader)
        } catch {
            throw ZooKeeperError(.marshallingError, path: path, message: "undecodable \(Response.self)", underlying: error)
        }
    }

    func serverPath(_ path: ZNodePath) -> String { core.chroot.serverPath(path.string) }
    func clientPath(_ serverPath: String) -> String { core.chroot.clientPath(serverPath) }
}
