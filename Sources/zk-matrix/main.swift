import Foundation

// zk-matrix: the recipes test matrix (suites × faults × targets). See docker/README.md.
let usage = """
usage: zk-matrix [--targets embedded,apache,ensemble,shepherd-ensemble,mixed-ensemble,external] [--suites locks,latch,selector,queue]
                 [--faults none,leader-killed,follower-restarted,client-server-killed,session-expired,partition]
                 [--ensemble-script docker/local-ensemble.sh] [--scenario-timeout SECONDS]
                 [--servers host:port,...]   (the external target; default $SHEPHERD_TEST_SERVERS)
Targets: embedded = Shepherd's server in process; apache = Apache ZooKeeper 3.8 standalone (Debian jars);
ensemble = 3-node Apache ensemble via docker/local-ensemble.sh; shepherd-ensemble = the same with three
zk-server nodes (needs `swift build` first); mixed-ensemble = node 1 zk-server, nodes 2-3 Apache; external =
servers run elsewhere (no process faults there: only none, session-expired and partition apply).
Default: embedded,apache,ensemble,shepherd-ensemble.
partition = the victim client's connections stalled both ways (per-client proxies) for 1.5 × the session timeout.
Prints a table (rows: suite × fault, columns: target) and exits 1 if any cell failed.
"""

var matrix = Matrix(
    targets: ["embedded", "apache", "ensemble", "shepherd-ensemble"], suites: Suite.allCases, faults: Fault.allCases,
    ensembleScript: "docker/local-ensemble.sh")
var arguments = CommandLine.arguments.dropFirst()
func list(_ text: String?) -> [String] { (text ?? "").split(separator: ",").map(String.init) }
while let argument = arguments.popFirst() {
    switch argument {
    case "--targets": matrix.targets = list(arguments.popFirst())
    case "--suites":
        matrix.suites = list(arguments.popFirst()).compactMap { name in
            Suite(rawValue: name) ?? { print("unknown suite \(name)\n\(usage)"); exit(2) }()
        }
    case "--faults":
        matrix.faults = list(arguments.popFirst()).compactMap { name in
            Fault(rawValue: name) ?? { print("unknown fault \(name)\n\(usage)"); exit(2) }()
        }
    case "--ensemble-script": matrix.ensembleScript = arguments.popFirst() ?? matrix.ensembleScript
    case "--servers": matrix.externalServers = arguments.popFirst() ?? ""
    case "--scenario-timeout": matrix.scenarioTimeout = .seconds(Int(arguments.popFirst() ?? "") ?? 60)
    case "-h", "--help": print(usage); exit(0)
    default: print("unknown argument \(argument)\n\(usage)"); exit(2)
    }
}

let started = ContinuousClock.now
let (results, details) = await matrix.run()
print(renderTable(results, targets: matrix.targets, suites: matrix.suites, faults: matrix.faults))
let failed = results.values.flatMap { $0.values.flatMap(\.values) }.filter(\.failed).count
for detail in details { print("- \(detail)") }
print("\(failed == 0 ? "PASS" : "FAIL"): \(failed) failed cell(s), total \(Outcome.seconds(ContinuousClock.now - started))")
exit(failed == 0 && details.isEmpty ? 0 : 1)
