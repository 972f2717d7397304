import ZooKeeperProtocol
import ZooKeeperClient
import ZooKeeperHTTP

/// Create, set and delete — only with ``InspectorConfiguration/allowWrites``.
///
/// Besides the setting, a write must carry the header `X-Shepherd-Inspector: write`: a browser sends a
/// custom header cross-origin only after a CORS preflight, which this server never grants, so another
/// site open in the same browser cannot write through the inspector.
extension ZooKeeperInspector {
    static let writeHeader = "X-Shepherd-Inspector"

    func write(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard configuration.allowWrites else {
            return responder.send(.error(403, "the inspector is read-only; start it with --allow-writes to change nodes"))
        }
        guard request.header(Self.writeHeader) == "write" else {
            return responder.send(.error(403, "writes need the header \(Self.writeHeader): write"))
        }
        let versionText = Self.query(request, "version")
        let version = versionText.flatMap { Int32($0) }
        if versionText != nil && version == nil { return responder.send(.error(400, "?version= must be an integer")) }
        let method = request.method, body = request.body
        let mode = Self.query(request, "mode") ?? "persistent"
        answer(responder) { inspector in
            let path = try Self.path(request)
            var object = JSONObject()
            object.set("path", path.string)
            switch method {
            case "POST":
                let modes: [String: CreateMode] = ["persistent": .persistent, "sequential": .persistentSequential,
                                                   "container": .container]
                guard let createMode = modes[mode] else {
                    throw RequestError(description: "?mode= must be persistent, sequential or container")
                }
                object.set("created", try await inspector.client.create(path, data: body, mode: createMode))
            case "PUT":
                let stat = try await inspector.client.setData(path, data: body, version: version)
                object.set("stat", NodeDetails.statJSON(stat))
            default:
                try await inspector.client.delete(path, version: version)
                object.set("deleted", true)
            }
            return object.value
        }
    }
}
