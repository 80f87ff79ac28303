// swift-tools-version:6.1
import PackageDescription

// Benchmarks for schedulerd, kept out of the main package so that building or testing the daemon never
// resolves the benchmark harness (ordo-one/benchmark, formerly package-benchmark; the MallocInterposer trait
// counts allocations without jemalloc). Run them with `swift package benchmark` from this directory, or
// `scripts/bench-cron` from the repository root for the side-by-side table against Python's croniter.

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "schedulerd-benchmarks",
    platforms: [.macOS(.v15)],
    products: [
        // Named here because its target is not: the other executables get their products implicitly.
        .executable(name: "cluster-load", targets: ["ClusterLoad"])
    ],
    dependencies: [
        .package(name: "schedulerd", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        .executableTarget(
            name: "CronBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Cron", package: "schedulerd"),
            ],
            path: "Benchmarks/CronBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        ),
        .executableTarget(
            name: "TracingBenchmarks",
            dependencies: [
                "SpanWork",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MLflowTracing", package: "schedulerd"),
                .product(name: "RunTracing", package: "schedulerd"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/TracingBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        ),
        .executableTarget(
            name: "SandboxBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ProcessSandbox", package: "schedulerd"),
            ],
            path: "Benchmarks/SandboxBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        ),
        .executableTarget(
            name: "scheduler-load",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Scheduling", package: "schedulerd"),
                .product(name: "Storage", package: "schedulerd"),
                .product(name: "Workflows", package: "schedulerd"),
                .product(name: "MLflowTracing", package: "schedulerd"),
                .product(name: "ProcessSandbox", package: "schedulerd"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/SchedulerLoad",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BenchmarkSupport",
            path: "Sources/BenchmarkSupport",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ClusterLoad",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Scheduling", package: "schedulerd"),
                .product(name: "Storage", package: "schedulerd"),
                .product(name: "PostgresStorage", package: "schedulerd"),
                .product(name: "Workflows", package: "schedulerd"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/ClusterLoad",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "agent-overhead",
            dependencies: [
                .product(name: "Workflows", package: "schedulerd"),
                .product(name: "MLflowTracing", package: "schedulerd"),
                .product(name: "RunTracing", package: "schedulerd"),
                .product(name: "ProcessSandbox", package: "schedulerd"),
                .product(name: "HTTPClient", package: "schedulerd"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/AgentOverhead",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "cli-next",
            dependencies: [.product(name: "Cron", package: "schedulerd")],
            path: "Sources/CLINext",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tracing-throughput",
            dependencies: [
                .product(name: "MLflowTracing", package: "schedulerd"),
                .product(name: "RunTracing", package: "schedulerd"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/TracingThroughput",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "span-cost",
            dependencies: [
                "SpanWork",
                .product(name: "MLflowTracing", package: "schedulerd"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/SpanCost",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SpanWork",
            dependencies: [
                .product(name: "MLflowTracing", package: "schedulerd"),
                .product(name: "RunTracing", package: "schedulerd"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Sources/SpanWork",
            swiftSettings: swiftSettings
        ),
    ]
)
