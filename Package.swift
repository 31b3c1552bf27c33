// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "masterplan",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "masterplan", targets: ["masterplan"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // C libraries, each seen only by its one wrapper module.
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),

        // Wrappers.
        .target(name: "JSON", dependencies: ["CJansson"]),
        .target(name: "Postgres", dependencies: ["CLibPQ", "JSON"]),
        .target(name: "FastCGI", dependencies: ["CFastCGI"]),

        // Domain and application.
        .target(name: "PlanCore", dependencies: ["JSON"]),
        .target(name: "Store", dependencies: ["Postgres", "JSON"]),
        .executableTarget(name: "masterplan", dependencies: [
            "Store", "Postgres", "JSON", "PlanCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Tests mirror Sources/.
        .target(name: "TestSupport", dependencies: ["Store", "Postgres"], path: "Tests/TestSupport"),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "FastCGITests", dependencies: ["FastCGI"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Postgres", "JSON", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "masterplanTests", dependencies: ["masterplan", "Store", "Postgres", "TestSupport"]),
        .testTarget(name: "PlanCoreTests", dependencies: [
            "PlanCore", "JSON",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
