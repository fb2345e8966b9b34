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
    ],
    targets: [
        .target(
            name: "SportelloCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(name: "SportelloStore", dependencies: ["SportelloCore"]),
        .target(name: "SportelloWeb", dependencies: ["SportelloStore"]),
        .executableTarget(
            name: "sportello",
            dependencies: [
                "SportelloCore", "SportelloWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "sportello-bench",
            dependencies: ["SportelloCore"],
            path: "Sources/SportelloBench"
        ),
        .testTarget(
            name: "SportelloCoreTests",
            dependencies: [
                "SportelloCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
