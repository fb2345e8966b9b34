// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "sportello",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sportello", targets: ["sportello"]),
        .library(name: "SportelloCore", targets: ["SportelloCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // Plugins are reached over HTTP (the payment provider's API); already resolved through HummingbirdTesting.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Operations: counters and histograms through swift-metrics, served in Prometheus' text format.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .target(
            name: "SportelloCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "SportelloStore",
            dependencies: [
                "SportelloCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SportelloMail",
            dependencies: [
                "SportelloCore", "SportelloStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Use cases: the business operations the web pages, the JSON API and the staff commands share.
        .target(
            name: "SportelloApplication",
            dependencies: [
                "SportelloCore", "SportelloStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                // Plugin calls use the client's future API (PluginHTTPClient), whose headers are NIOHTTP1's.
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                // Plugin calls and reload outcomes are counted (see OperationsMetrics).
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "SportelloWeb",
            dependencies: [
                "SportelloCore", "SportelloStore", "SportelloMail", "SportelloApplication",
                .product(name: "Hummingbird", package: "hummingbird"),
                // Authenticator apps (the `enrol_totp` required action and the login code that follows it).
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // /metrics: the process's swift-metrics, in Prometheus' text format.
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // SIGHUP reloads the tenants (LiveTenants/TenantWatcher).
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "sportello",
            dependencies: [
                "SportelloCore", "SportelloStore", "SportelloMail", "SportelloApplication", "SportelloWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "sportello-bench",
            dependencies: ["SportelloCore", "SportelloWeb"],
            path: "Sources/SportelloBench"
        ),
        .executableTarget(
            name: "sportello-store-bench",
            dependencies: ["SportelloCore", "SportelloStore", "SportelloWeb"],
            path: "Sources/SportelloStoreBench"
        ),
        // What every test target shares: the repository's tenants, the database engines, unique ids.
        .target(
            name: "SportelloTestSupport",
            dependencies: ["SportelloCore", "SportelloStore", "SportelloMail", "SportelloApplication", "SportelloWeb",
                           .product(name: "HummingbirdTesting", package: "hummingbird"),
                           // The sandbox PSP's pages and API, reached over real HTTP by the payment tests.
                           .product(name: "AsyncHTTPClient", package: "async-http-client")],
            path: "Tests/SportelloTestSupport"
        ),
        .testTarget(
            name: "SportelloCoreTests",
            dependencies: [
                "SportelloCore", "SportelloTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "SportelloStoreTests",
            dependencies: ["SportelloCore", "SportelloStore", "SportelloTestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "SportelloMailTests",
            dependencies: ["SportelloCore", "SportelloStore", "SportelloMail", "SportelloTestSupport"]
        ),
        .testTarget(
            name: "SportelloWebTests",
            dependencies: [
                "SportelloCore", "SportelloStore", "SportelloMail", "SportelloApplication", "SportelloWeb", "SportelloTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                // The page engine's output is compared with swift-mustache's (which the mail templates use).
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
