/// Polls `check` until it reports nothing wrong (nil), or throws its last complaint after `timeout`:
/// for invariants that are promised "within a bound" (convergence, cleanup), checked against the server.
func converge(_ what: String, timeout: Duration, _ check: () async throws -> String?) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        let complaint: String?
        do { complaint = try await check() } catch { complaint = "\(error)" }
        guard let complaint else { return }
        guard ContinuousClock.now < deadline else { throw MatrixError("\(what) not within \(timeout): \(complaint)") }
        try await Task.sleep(for: .milliseconds(50))
    }
}
