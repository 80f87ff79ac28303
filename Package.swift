// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "schedulerd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "schedule", targets: ["schedule"]),
        .executable(name: "schedulerd", targets: ["schedulerd"]),
        .library(name: "Cron", targets: ["Cron"]),
        .library(name: "Support", targets: ["Support"]),
        .library(name: "HTTPClient", targets: ["HTTPClient"]),
        .library(name: "RunTracing", targets: ["RunTracing"]),
        .library(name: "MLflowTracing", targets: ["MLflowTracing"]),
        .library(name: "ProcessSandbox", targets: ["ProcessSandbox"]),
        .library(name: "Workflows", targets: ["Workflows"]),
        .library(name: "Storage", targets: ["Storage"]),
        .library(name: "PostgresStorage", targets: ["PostgresStorage"]),
        .library(name: "Scheduling", targets: ["Scheduling"]),
        .library(name: "SchedulerAPI", targets: ["SchedulerAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        .target(name: "Cron", swiftSettings: swiftSettings),
        .target(
            name: "Support",
            dependencies: ["Cron", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Loads libcurl.so.4 with dlopen on first use (see ccurl.c): only its headers are needed to build.
        .target(name: "CCurl"),
        .target(name: "CSandbox"),
        .target(name: "HTTPClient", dependencies: ["CCurl"], swiftSettings: swiftSettings),
        .target(
            name: "ProcessSandbox",
            dependencies: [
                "CSandbox", "Support", .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Storage",
            dependencies: ["Support", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PostgresStorage",
            dependencies: [
                "Storage", "Support",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HTTPAPI",
            dependencies: [
                "Scheduling", "SchedulerAPI", "Storage", "Workflows", "Cron", "Support",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // The pages' templates, stylesheet and script, compiled into the module
            // (`PackageResources`): the daemon is one file, with no bundle beside it to lose.
            resources: [
                "head", "foot", "login", "problem", "overview", "schedules", "schedule", "run", "marks", "actions",
            ].map { .embedInCode("Pages/Assets/\($0).mustache") } + [
                .embedInCode("Pages/Assets/style.css"), .embedInCode("Pages/Assets/live.js"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Scheduling",
            dependencies: [
                "Cron", "Storage", "Workflows", "RunTracing", "SchedulerAPI", "Support",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "SchedulerAPI", swiftSettings: swiftSettings),
        .target(
            name: "Alerts",
            dependencies: [
                "CCurl", "HTTPClient", "Scheduling", "Storage", "Support", "Workflows",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Workflows",
            dependencies: [
                "HTTPClient", "RunTracing", "ProcessSandbox", "Support",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RunTracing",
            dependencies: [.product(name: "Tracing", package: "swift-distributed-tracing")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MLflowTracing",
            dependencies: [
                "CZlib", "HTTPClient", "RunTracing",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SchedulerTesting",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MLflowTesting",
            dependencies: [
                "MLflowTracing", "RunTracing", "SchedulerTesting",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TracingTesting",
            dependencies: ["RunTracing", .product(name: "Tracing", package: "swift-distributed-tracing")],
            swiftSettings: swiftSettings
        ),
        .target(name: "ClockTesting", dependencies: ["Scheduling"], swiftSettings: swiftSettings),
        .target(
            name: "StorageTesting",
            dependencies: [
                "Storage", "PostgresStorage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "schedulerd",
            dependencies: [
                "Alerts", "HTTPAPI", "HTTPClient", "Scheduling", "Storage", "PostgresStorage", "Workflows",
                "MLflowTracing", "ProcessSandbox", "Support",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "schedule",
            dependencies: [
                "Cron", "HTTPClient", "Workflows", "Scheduling", "SchedulerAPI", "Support",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "CronTests", dependencies: ["Cron", "SchedulerTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "HTTPClientTests", dependencies: ["HTTPClient", "SchedulerTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ProcessSandboxTests",
            dependencies: ["ProcessSandbox", "SchedulerTesting", "Support"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "trace-probe",
            dependencies: [
                "MLflowTracing", "RunTracing",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TraceProbe",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MLflowTracingTests",
            dependencies: [
                "HTTPClient", "MLflowTesting", "MLflowTracing", "RunTracing", "SchedulerTesting", "trace-probe",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WorkflowsTests",
            dependencies: [
                "Workflows", "MLflowTesting", "TracingTesting", "SchedulerTesting", "MLflowTracing", "RunTracing",
                "ProcessSandbox", "Support", "HTTPClient",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SchedulingTests",
            dependencies: [
                "Scheduling", "Storage", "Workflows", "Cron", "ClockTesting", "SchedulerTesting", "TracingTesting",
                "RunTracing", "ProcessSandbox",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StorageTests",
            dependencies: [
                "Storage", "StorageTesting", "PostgresStorage", "SchedulerTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "schedulerd", "schedule", "MLflowTesting", "SchedulerTesting", "Storage", "StorageTesting",
                "PostgresStorage", "Workflows", "HTTPClient",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FuzzTests",
            dependencies: ["Scheduling", "Storage", "Workflows", "ProcessSandbox", "Support", "SchedulerTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HTTPAPITests",
            dependencies: [
                "HTTPAPI", "Scheduling", "SchedulerAPI", "Storage", "Workflows", "Support", "ClockTesting",
                "SchedulerTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SchedulerAPITests", dependencies: ["SchedulerAPI"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ScheduleCLITests",
            dependencies: ["schedule", "SchedulerTesting"],
            swiftSettings: swiftSettings
        ),
    ]
)
