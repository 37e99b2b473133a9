// swift-tools-version:6.1
import PackageDescription

/// Couplet: a Postgres-backed job-queue worker pool that keeps an ERP and a CRM in step.
///
/// Modules depend downwards only: CLibPQ → Postgres → Queue → Cron (→ Sync → SalesIntegration) → Console → couplet; Cron and Sync read
/// their YAML files through YAMLFile (which knows only Yams).
let package = Package(
    name: "Couplet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "couplet", targets: ["couplet"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        // For the fuzz targets of Fuzz/Package.swift, which can only depend on products.
        .library(name: "Cron", targets: ["Cron"]),
        .library(name: "Sync", targets: ["Sync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        // HTTP: the Web API connectors' client, and the emulator and test servers.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // Metrics: swift-metrics' API in the libraries, Prometheus as the backend of the processes' /metrics.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        .target(
            name: "Postgres",
            dependencies: ["CLibPQ"]
        ),
        .target(
            name: "Queue",
            dependencies: [
                "Postgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The processes' HTTP endpoints for monitoring: /metrics (Prometheus), /livez and /readyz.
        .target(
            name: "Monitoring",
            dependencies: [
                "Postgres",
                "Queue",
                "CoupletSchema",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The web console (couplet web): server-rendered pages over the read models of Queue, Cron and Sync,
        // each person signed in with their own database login.
        .target(
            name: "Console",
            dependencies: [
                "Postgres",
                "Queue",
                "Cron",
                "Sync",
                "SalesIntegration",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "YAMLFile",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "Cron",
            dependencies: [
                "Postgres",
                "Queue",
                "YAMLFile",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "Sync",
            dependencies: [
                "Postgres",
                "Queue",
                "YAMLFile",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "SalesIntegration",
            dependencies: [
                "Postgres",
                "Queue",
                "Sync",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Demo",
            dependencies: ["Postgres"]
        ),
        .executableTarget(
            name: "EmbedSchemaTool",
            path: "Sources/EmbedSchemaTool"
        ),
        .plugin(
            name: "EmbedSchemaPlugin",
            capability: .buildTool(),
            dependencies: ["EmbedSchemaTool"],
            path: "Sources/EmbedSchemaPlugin"
        ),
        .target(
            name: "CoupletSchema",
            dependencies: ["Postgres"],
            plugins: ["EmbedSchemaPlugin"]
        ),
        // What every command shares: the database and logging options, and text layout.
        .target(
            name: "CommandSupport",
            dependencies: [
                "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `couplet bench …`: the benchmarks, kept out of the production commands' code.
        .target(
            name: "Benchmarks",
            dependencies: [
                "CommandSupport",
                "Console",
                "Postgres",
                "Queue",
                "Cron",
                "Sync",
                "CoupletSchema",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "couplet",
            dependencies: [
                "CommandSupport",
                "Benchmarks",
                "Postgres",
                "Queue",
                "Cron",
                "Sync",
                "SalesIntegration",
                "ODataConnector",
                "YAMLFile",
                "CoupletSchema",
                "Demo",
                "Monitoring",
                "Console",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "PostgresTestSupport",
            dependencies: ["Postgres", "CoupletSchema", "Demo"],
            path: "Tests/PostgresTestSupport"
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "PostgresTestSupport"]
        ),
        .testTarget(
            name: "QueueTests",
            dependencies: [
                "Queue", "Postgres", "CoupletSchema", "PostgresTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SyncTests",
            dependencies: [
                "Sync", "Postgres", "Queue", "Cron", "CoupletSchema", "PostgresTestSupport", "ODataConnector", "DataverseEmulator",
                "BusinessCentralEmulator", .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SalesIntegrationTests",
            dependencies: ["SalesIntegration", "Sync", "Queue", "Postgres", "CoupletSchema", "PostgresTestSupport"]
        ),
        .testTarget(
            name: "CronTests",
            dependencies: ["Cron", "Postgres", "Queue", "CoupletSchema", "PostgresTestSupport"]
        ),
        .testTarget(
            name: "DemoTests",
            dependencies: ["Demo", "Postgres", "Sync", "Cron", "PostgresTestSupport", "ODataConnector", "DataverseEmulator", "BusinessCentralEmulator"]
        ),
        // MARK: ODataConnector — the HTTP/OData client of the Dataverse and Business Central connectors
        .target(
            name: "ODataConnector",
            dependencies: [
                "Postgres",
                "Queue",
                "Sync",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "ODataConnectorTests",
            dependencies: [
                "ODataConnector",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Golden")]
        ),
        // MARK: end of ODataConnector
        .testTarget(
            name: "CoupletTests",
            dependencies: [
                "CommandSupport",
                "Postgres", "Queue", "Cron", "CoupletSchema", "PostgresTestSupport", "DataverseEmulator", "BusinessCentralEmulator",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                // DeploymentTests read the Kubernetes manifests.
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        .testTarget(
            name: "ConsoleTests",
            dependencies: [
                "Console", "Postgres", "Queue", "CoupletSchema", "PostgresTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),

        // MARK: Dataverse emulator
        // Emulators of the Dataverse Web API and of the Business Central API over Postgres databases shaped like them
        // (docs/emulator.md), for testing the connectors without the real services. EmulatorSupport holds what they share.
        .target(
            name: "EmulatorSupport",
            dependencies: [
                "Postgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "DataverseEmulator",
            dependencies: [
                "EmulatorSupport",
                "Postgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BusinessCentralEmulator",
            dependencies: [
                "EmulatorSupport",
                "Postgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "couplet-emulator",
            dependencies: [
                "DataverseEmulator",
                "BusinessCentralEmulator",
                "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "EmulatorTests",
            dependencies: [
                "DataverseEmulator", "BusinessCentralEmulator", "Postgres", "PostgresTestSupport", "Demo",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            resources: [.copy("Golden")]
        ),
        // MARK: end of Dataverse emulator
    ],
    swiftLanguageModes: [.v6]
)
