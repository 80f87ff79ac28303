// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "schedulerd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "schedule", targets: ["schedule"]),
        .library(name: "Cron", targets: ["Cron"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2")
    ],
    targets: [
        .target(name: "Cron", swiftSettings: swiftSettings),
        .executableTarget(
            name: "schedule",
            dependencies: [
                "Cron",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "CronTests", dependencies: ["Cron"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ScheduleCLITests",
            dependencies: ["schedule", "Cron"],
            swiftSettings: swiftSettings
        ),
    ]
)
