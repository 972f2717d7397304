// swift-tools-version: 6.1
import PackageDescription

// Shepherd: a zero-dependency Swift toolkit for ZooKeeper. Toolchain only — no `dependencies:`.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Shepherd",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ZooKeeperProtocol", targets: ["ZooKeeperProtocol"]),
        .library(name: "ZooKeeperClient", targets: ["ZooKeeperClient"]),
        .library(name: "ZooKeeperServer", targets: ["ZooKeeperServer"]),
        .library(name: "ZooKeeperRecipes", targets: ["ZooKeeperRecipes"]),
        .executable(name: "zk-bench", targets: ["zk-bench"]),
        .executable(name: "zk-server", targets: ["zk-server"]),
        .executable(name: "lock-demo", targets: ["lock-demo"]),
        .executable(name: "zk-cli", targets: ["zk-cli"]),
        .executable(name: "zk-matrix", targets: ["zk-matrix"]),
        .library(name: "ZooKeeperInspector", targets: ["ZooKeeperInspector"]),
        .executable(name: "zk-inspector", targets: ["zk-inspector"]),
    ],
    targets: [
        .target(name: "ZooKeeperProtocol", swiftSettings: strictSettings),
        .target(name: "ZooKeeperPOSIX", swiftSettings: strictSettings),
        // A small HTTP/1.1 server and JSON: zk-server's admin and metrics endpoints (and the inspector's).
        .target(name: "ZooKeeperHTTP", dependencies: ["ZooKeeperPOSIX"], swiftSettings: strictSettings),
        // What the command-line tools share: Ctrl-C handling and their child processes.
        .target(name: "ToolSupport", swiftSettings: strictSettings),
        .target(
            name: "ZooKeeperClient",
            dependencies: ["ZooKeeperProtocol", "ZooKeeperPOSIX"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ZooKeeperRecipes",
            dependencies: ["ZooKeeperClient"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ZooKeeperServer",
            dependencies: ["ZooKeeperProtocol", "ZooKeeperPOSIX", "ZooKeeperHTTP"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ZooKeeperTestSupport",
            dependencies: ["ZooKeeperClient", "ZooKeeperPOSIX", "ZooKeeperServer", "ZooKeeperHTTP"],
            // The Java load harness's sources: compiled with javac at run time (JavaLoadHarness.swift).
            exclude: ["JavaLoadHarness"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "zk-bench",
            // `--embedded` runs our server; TestSupport's Apache launcher serves `--start-apache`;
            // the lock modes measure the recipes.
            dependencies: ["ZooKeeperClient", "ZooKeeperRecipes", "ZooKeeperServer", "ZooKeeperTestSupport", "ToolSupport"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "zk-server",
            dependencies: ["ZooKeeperServer"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "lock-demo",
            // Workers use only the recipes and the client; the parent also starts the embedded server
            // (and, with --inspect, the inspector).
            dependencies: ["ZooKeeperRecipes", "ZooKeeperClient", "ZooKeeperServer", "ToolSupport", "ZooKeeperInspector"],
            swiftSettings: strictSettings
        ),
        // The web inspector: tree, recognised recipes, ensemble; its page is embedded in the binary.
        .target(
            name: "ZooKeeperInspector",
            dependencies: ["ZooKeeperClient", "ZooKeeperProtocol", "ZooKeeperHTTP", "ZooKeeperPOSIX"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "zk-inspector",
            dependencies: ["ZooKeeperInspector", "ZooKeeperClient", "ToolSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ZooKeeperInspectorTests",
            dependencies: ["ZooKeeperInspector", "ZooKeeperClient", "ZooKeeperProtocol", "ZooKeeperHTTP", "ZooKeeperPOSIX", "ZooKeeperRecipes", "ZooKeeperServer",
                           "ZooKeeperTestSupport"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ZooKeeperCLI",
            dependencies: ["ZooKeeperClient", "ZooKeeperProtocol", "ZooKeeperPOSIX"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "zk-cli",
            dependencies: ["ZooKeeperCLI"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ZooKeeperCLITests",
            dependencies: ["ZooKeeperCLI", "ZooKeeperClient", "ZooKeeperProtocol", "ZooKeeperServer", "ZooKeeperTestSupport"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "zk-matrix",
            // The recipes test matrix: suites × faults × targets (embedded, Apache standalone, Apache ensemble).
            dependencies: ["ZooKeeperRecipes", "ZooKeeperClient", "ZooKeeperServer", "ZooKeeperTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ZooKeeperProtocolTests",
            dependencies: ["ZooKeeperProtocol"],
            exclude: ["FixtureGenerator"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ZooKeeperClientTests",
            dependencies: ["ZooKeeperClient", "ZooKeeperProtocol", "ZooKeeperPOSIX", "ZooKeeperServer", "ZooKeeperTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ZooKeeperServerTests",
            dependencies: ["ZooKeeperServer", "ZooKeeperProtocol", "ZooKeeperTestSupport", "ZooKeeperClient", "ZooKeeperHTTP"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ZooKeeperRecipesTests",
            dependencies: ["ZooKeeperRecipes", "ZooKeeperClient", "ZooKeeperServer", "ZooKeeperTestSupport"],
            exclude: ["Interop/CuratorMutexContender.java", "Interop/CuratorQueueClient.java", "Interop/kazoo_lock_contender.py"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ZooKeeperHTTPTests",
            dependencies: ["ZooKeeperHTTP", "ZooKeeperPOSIX", "ZooKeeperTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ToolSupportTests",
            dependencies: ["ToolSupport", "ZooKeeperTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LockDemoTests",
            dependencies: ["lock-demo"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ZooKeeperIntegrationTests",
            dependencies: ["ZooKeeperClient", "ZooKeeperServer", "ZooKeeperTestSupport", "ZooKeeperHTTP"],
            swiftSettings: strictSettings
        ),
    ]
)
