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
            ]
        ),
        .target(name: "SportelloWeb", dependencies: ["SportelloStore"]),
        .executableTarget(
            name: "sportello",
            dependencies: [
                "SportelloCore", "SportelloStore", "SportelloWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "sportello-bench",
            dependencies: ["SportelloCore"],
            path: "Sources/SportelloBench"
        ),
        .executableTarget(
            name: "sportello-store-bench",
            dependencies: ["SportelloCore", "SportelloStore"],
            path: "Sources/SportelloStoreBench"
        ),
        .testTarget(
            name: "SportelloCoreTests",
            dependencies: [
                "SportelloCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "SportelloStoreTests",
            dependencies: ["SportelloCore", "SportelloStore"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
