import Foundation

// zk-matrix: the recipes test matrix (suites × faults × targets). See docker/README.md.
let usage = """
usage: zk-matrix [--targets embedded,apache,ensemble,shepherd-ensemble,mixed-ensemble,mixed-ensemble-2,external]
                 [--suites \(Suite.allCases.map(\.rawValue).joined(separator: ","))]
                 [--faults \(Fault.allCases.map(\.rawValue).joined(separator: ","))]
                 [--ensemble-script docker/local-ensemble.sh] [--ensemble-nodes N] [--scenario-timeout SECONDS]
                 [--parallel N]
                 [--report PATH]             (writes PATH.md and PATH.json; default zk-matrix-report; - for none)
                 [--servers host:port,...]   (the external target; default $SHEPHERD_TEST_SERVERS)
Targets: embedded = Shepherd's server in process; apache = Apache ZooKeeper 3.8 standalone (Debian jars);
ensemble = 3-node Apache ensemble via docker/local-ensemble.sh; shepherd-ensemble = the same with three
zk-server nodes (needs `swift build` first); mixed-ensemble = node 1 zk-server, nodes 2-3 Apache;
mixed-ensemble-2 = nodes 1-2 zk-server, node 3 Apache (the leader moves between kinds as faults kill it); external =
servers run elsewhere (no process faults there: only none, session-expired and partition apply).
--ensemble-nodes N (2-9, default 3) sizes the script's ensembles: e.g. 5 for a shepherd-ensemble of five zk-server
nodes (mixed ones keep their one or two zk-server nodes; peer-partition runs on three-node ensembles only).
Default: embedded,apache,ensemble,shepherd-ensemble, every suite, every fault but peer-partition.
partition = the victim client's connections stalled both ways (per-client proxies) for 1.5 × the session timeout.
peer-partition = the leader cut off from both other members (the script's ensembles, started with fault proxies
between members when this fault is selected) until another member leads, then healed.
Scenarios that touch only their own clients (none, session-expired, partition) run --parallel at a time
(default 4); server kills, restarts and peer partitions run one at a time.
Prints each suite's invariant, then one table per target (rows: suites, columns: faults), writes the report,
and exits 1 if any cell failed.
"""

var matrix = Matrix(
    targets: ["embedded", "apache", "ensemble", "shepherd-ensemble"], suites: Suite.allCases, faults: Fault.defaultSet,
    ensembleScript: "docker/local-ensemble.sh")
var reportBase = "zk-matrix-report"
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
    case "--ensemble-nodes":
        guard let nodes = Int(arguments.popFirst() ?? ""), (2...9).contains(nodes) else {
            print("--ensemble-nodes: a number of members from 2 to 9 expected\n\(usage)")
            exit(2)
        }
        matrix.ensembleNodes = nodes
    case "--servers": matrix.externalServers = arguments.popFirst() ?? ""
    case "--scenario-timeout": matrix.scenarioTimeout = .seconds(Int(arguments.popFirst() ?? "") ?? 60)
    case "--parallel": matrix.parallel = max(1, Int(arguments.popFirst() ?? "") ?? 4)
    case "--report": reportBase = arguments.popFirst() ?? reportBase
    case "-h", "--help": print(usage); exit(0)
    default: print("unknown argument \(argument)\n\(usage)"); exit(2)
    }
}
for suffix in [".md", ".json"] where reportBase.hasSuffix(suffix) { reportBase.removeLast(suffix.count) }

print("Invariants:")
for suite in matrix.suites { print("- \(suite.rawValue): \(suite.invariant)") }
let started = ContinuousClock.now
let (results, details) = await matrix.run()
let report = MatrixReport(
    targets: matrix.targets, suites: matrix.suites, faults: matrix.faults, results: results, details: details,
    total: ContinuousClock.now - started, sessionTimeout: matrix.sessionTimeout, parallel: matrix.parallel)
print(report.console)
if reportBase != "-" {
    do {
        print("report: \(try report.write(to: reportBase).joined(separator: ", "))")
    } catch {
        print("could not write the report to \(reportBase).md/.json: \(error)")
    }
}
exit(report.failedCells == 0 && details.isEmpty ? 0 : 1)
