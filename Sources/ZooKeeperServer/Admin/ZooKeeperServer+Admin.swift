import ZooKeeperHTTP

/// Starting the HTTP endpoints a configuration asks for: the admin server and Prometheus `/metrics`.
extension ZooKeeperServer {
    func startHTTPEndpoints(_ pipeline: RequestPipeline) async throws -> HTTPEndpoints {
        let handler = AdminHTTPHandler { (job: @escaping @Sendable (PipelineState) -> Void) -> Bool in
            pipeline.perform(job)
            return true
        }
        var endpoints = HTTPEndpoints()
        let admin = configuration.admin
        if admin.enabled {
            let base = admin.commandURL.split(separator: "/").map(String.init)
            let settings = HTTPServerConfiguration(host: admin.address, port: admin.port,
                                                   idleTimeout: .milliseconds(admin.idleTimeout), name: "zookeeper-admin")
            let server = try HTTPServer(configuration: settings) { (request: HTTPRequest, responder: HTTPResponder) in
                handler.commands(base: base, request: request, responder: responder)
            }
            endpoints.admin = server
            log.info("admin server on \(admin.address):\(server.port)\(admin.commandURL)")
        }
        let metrics = configuration.metricsProvider
        if metrics.prometheusEnabled {
            let settings = HTTPServerConfiguration(host: metrics.host, port: metrics.port, name: "zookeeper-metrics")
            do {
                endpoints.metrics = try HTTPServer(configuration: settings) { (request: HTTPRequest, responder: HTTPResponder) in
                    handler.metrics(request: request, responder: responder)
                }
            } catch {
                await endpoints.admin?.stop()  // not started yet: this closes its listener
                throw error
            }
            log.info("Prometheus metrics on \(metrics.host):\(endpoints.metrics!.port)/metrics")
        }
        endpoints.admin?.start()
        endpoints.metrics?.start()
        return endpoints
    }
}

/// The HTTP servers a running ``ZooKeeperServer`` has.
struct HTTPEndpoints: Sendable {
    var admin: HTTPServer?
    var metrics: HTTPServer?

    func stop() async {
        await admin?.stop()
        await metrics?.stop()
    }
}
