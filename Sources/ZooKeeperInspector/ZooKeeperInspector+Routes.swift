import Synchronization
import ZooKeeperProtocol
import Foundation
import ZooKeeperClient
import ZooKeeperHTTP

/// The inspector's HTTP API and its page.
///
/// | Request | Answer |
/// |---|---|
/// | `GET /` , `/app.js`, `/app.css` | the page (embedded) |
/// | `GET /api/info` | connect string, session, whether writes are allowed |
/// | `GET /api/children?path=` | a node's children with their sizes |
/// | `GET /api/node?path=` | data (text, pretty JSON, hex), every Stat field, ACL, children |
/// | `GET /api/search?prefix=` | paths starting with the prefix (latest tree read) |
/// | `GET /api/recipes` | the recognised recipes (latest tree read) |
/// | `GET /api/ensemble` | each member's `srvr`/`mntr` state, asked now |
/// | `GET /api/events` | server-sent events: `change`, `recipes`, `ensemble`, `status` |
/// | `POST`/`PUT`/`DELETE /api/node?path=` | create / set / delete: 403 unless writes are allowed |
extension ZooKeeperInspector {
    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard hostAllowed(request.header("Host")) else {
            return responder.send(.error(403, "unexpected Host header; open the inspector as \(url)"))
        }
        let segments = request.pathSegments
        switch (request.method, segments) {
        case ("GET", [""]), ("HEAD", [""]), ("GET", ["index.html"]):
            responder.send(.asset(Array(InspectorAssets.page.utf8), contentType: HTTPContentType.forName("index.html")))
        case ("GET", ["app.js"]):
            responder.send(.asset(Array(InspectorAssets.script.utf8), contentType: HTTPContentType.forName("app.js")))
        case ("GET", ["app.css"]):
            responder.send(.asset(Array(InspectorAssets.style.utf8), contentType: HTTPContentType.forName("app.css")))
        case ("GET", ["api", "events"]):
            feed.subscribe(responder.eventStream())
        case ("GET", ["api", "info"]):
            responder.send(.json(info()))
        case ("GET", ["api", "ensemble"]):
            answer(responder) { inspector in await inspector.ensembleTable() }
        case ("GET", ["api", "recipes"]):
            answer(responder) { inspector in try await inspector.currentRecipes() }
        case ("GET", ["api", "search"]):
            let prefix = Self.query(request, "prefix") ?? "/"
            answer(responder) { inspector in try await inspector.search(prefix) }
        case ("GET", ["api", "children"]):
            answer(responder) { inspector in try await NodeDetails.children(inspector.client, try Self.path(request)) }
        case ("GET", ["api", "node"]):
            answer(responder) { inspector in try await NodeDetails.node(inspector.client, try Self.path(request)) }
        case ("POST", ["api", "node"]), ("PUT", ["api", "node"]), ("DELETE", ["api", "node"]):
            write(request, responder)
        case ("POST", ["api", "render-report"]):
            guard let receiver = configuration.renderReports else { return responder.send(.error(404, "not enabled")) }
            guard let report = try? JSONValue(parsing: String(decoding: request.body, as: UTF8.self)) else {
                return responder.send(.error(400, "the report is not JSON"))
            }
            receiver(report)
            responder.send(HTTPResponse(status: 204))
        default:
            let known = segments.first == "api" || segments == [""] || segments == ["app.js"] || segments == ["app.css"]
            responder.send(known ? .error(405, "\(request.method) is not supported here") : .error(404, "no such page"))
        }
    }

    /// On a loopback address only loopback names may be the `Host`: a web page whose own name was rebound to
    /// 127.0.0.1 (DNS rebinding) must not read or write through the inspector.
    func hostAllowed(_ host: String?) -> Bool {
        let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"]
        guard loopback.contains(configuration.host.lowercased()) else { return true }
        guard let host else { return true }  // HTTP/1.0 without Host: no browser sends that
        var name = host.lowercased()
        if name.hasPrefix("[") { name = String(name.prefix { $0 != "]" }) + "]" } else if let colon = name.lastIndex(of: ":") {
            name = String(name[..<colon])
        }
        return loopback.contains(name)
    }

    /// Runs `work` in a task and answers its JSON, or the error as JSON with a fitting status.
    func answer(_ responder: HTTPResponder, _ work: @escaping @Sendable (ZooKeeperInspector) async throws -> JSONValue) {
        Task { [self] in
            do {
                responder.send(.json(try await work(self)))
            } catch {
                responder.send(Self.errorResponse(error))
            }
        }
    }

    static func errorResponse(_ error: any Error) -> HTTPResponse {
        var status = 500
        if let error = error as? ZooKeeperError {
            switch error.code {
            case .noNode: status = 404
            case .nodeExists, .notEmpty, .badVersion: status = 409
            case .noAuth: status = 403
            case .badArguments, .invalidACL, .noChildrenForEphemerals: status = 400
            default: status = 502
            }
        } else if error is ZNodePathError || error is RequestError {
            status = 400
        }
        var object = JSONObject()
        object.set("error", "\(error)")
        return .json(object.value, status: status)
    }

    /// A bad request's reason.
    struct RequestError: Error, CustomStringConvertible {
        var description: String
    }

    static func query(_ request: HTTPRequest, _ name: String) -> String? {
        request.query.first { $0.name == name }?.value
    }

    static func path(_ request: HTTPRequest) throws -> ZNodePath {
        guard let text = query(request, "path") else { throw RequestError(description: "missing ?path=") }
        return try ZNodePath(text)
    }

    func info() -> JSONValue {
        var object = JSONObject()
        object.set("members", .array(configuration.members.map { JSONValue.string($0.description) }))
        object.set("session", client.session?.idHex)
        object.set("state", "\(client.connectionState)")
        object.set("allowWrites", configuration.allowWrites)
        object.set("maxNodes", configuration.maxNodes)
        object.set("now", Int64(Date().timeIntervalSince1970 * 1000))
        return object.value
    }

    /// The latest read's recipes, reading the tree first if there is none yet.
    func currentRecipes() async throws -> JSONValue {
        if let value = latest.withLock({ $0?.recipes }) { return value }
        let snapshot = try await TreeReader(client: client, maxNodes: configuration.maxNodes).read()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var object = JSONObject()
        object.set("generatedAt", now)
        object.set("nodeCount", snapshot.entries.count)
        object.set("truncated", snapshot.truncated)
        object.set("recipes", .array(RecipeRecognizer(snapshot: snapshot, now: now).recognise().map(\.json)))
        return object.value
    }

    /// Paths starting with `prefix` in the latest read (at most 200).
    func search(_ prefix: String) async throws -> JSONValue {
        var snapshot = latest.withLock { $0?.snapshot }
        if snapshot == nil { snapshot = try await TreeReader(client: client, maxNodes: configuration.maxNodes).read() }
        let matches = (snapshot?.paths ?? []).filter { $0.hasPrefix(prefix) }
        var object = JSONObject()
        object.set("prefix", prefix)
        object.set("total", matches.count)
        object.set("paths", .array(matches.prefix(200).map(JSONValue.string)))
        return object.value
    }
}
