import ZooKeeperHTTP

/// Routes the admin server's and the metrics endpoint's requests; the answers are computed on the
/// pipeline thread (``RequestPipeline/perform(_:)``) and sent from there.
struct AdminHTTPHandler: Sendable {
    /// Runs a job on the pipeline thread; false when the server no longer runs.
    let onPipeline: @Sendable (@escaping @Sendable (PipelineState) -> Void) -> Bool

    /// `GET <commandURL>` (the list, as Apache's HTML links) and `GET <commandURL>/<name>[?key=value…]`.
    func commands(base: [String], request: HTTPRequest, responder: HTTPResponder) {
        guard Self.allowed(request, responder) else { return }
        let segments = request.pathSegments
        if segments == base || segments == base + [""] {
            let prefix = "/" + base.joined(separator: "/")
            let names = AdminCommand.all.map(\.primaryName).sorted()
            let links = names.map { "<a href=\"\(prefix)/\($0)\">\($0)</a>\n<br/>\n" }.joined()
            responder.send(.text(links, contentType: "text/html; charset=utf-8"))
            return
        }
        guard segments.count == base.count + 1, Array(segments.prefix(base.count)) == base, let name = segments.last, !name.isEmpty else {
            responder.send(.error(404, "no such page; the commands are listed at /\(base.joined(separator: "/"))"))
            return
        }
        var arguments: [String: String] = [:]
        for item in request.query where arguments[item.name] == nil { arguments[item.name] = item.value }
        let frozen = arguments
        let submitted = onPipeline { (state: PipelineState) in
            responder.send(.json(state.adminResponse(name, arguments: frozen)))
        }
        if !submitted { responder.send(.error(503, "the server is shutting down")) }
    }

    /// `GET /metrics`: the Prometheus text format.
    func metrics(request: HTTPRequest, responder: HTTPResponder) {
        guard Self.allowed(request, responder) else { return }
        guard request.pathSegments == ["metrics"] else {
            responder.send(.error(404, "metrics are at /metrics"))
            return
        }
        let submitted = onPipeline { (state: PipelineState) in
            responder.send(.text(PrometheusText.render(state.prometheusGauges()) + state.prometheusMetrics(), contentType: PrometheusText.contentType))
        }
        if !submitted { responder.send(.error(503, "the server is shutting down")) }
    }

    /// GET and HEAD only (Apache's servlet answers 405 to the rest).
    private static func allowed(_ request: HTTPRequest, _ responder: HTTPResponder) -> Bool {
        guard request.method == "GET" || request.method == "HEAD" else {
            var response = HTTPResponse.error(405, "HTTP method \(request.method) is not supported by this URL")
            response.headers.append(HTTPHeader("Allow", "GET, HEAD"))
            responder.send(response)
            return false
        }
        return true
    }
}
