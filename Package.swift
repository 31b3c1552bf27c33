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
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C libraries, each seen only by its one wrapper module.
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),

        // Infrastructure every module may use, written once: process spawning, the structured log,
        // durations, the blocking thread pool. Foundation and Glibc only, no C library.
        .target(name: "Base"),

        // Wrappers.
        .target(name: "JSON", dependencies: ["CJansson"]),
        .target(name: "Postgres", dependencies: ["CLibPQ", "JSON", "Base"]),
        .target(name: "FastCGI", dependencies: ["CFastCGI", "Base"]),

        // Domain and application.
        .target(name: "PlanCore", dependencies: ["JSON"]),
        // The LLM client is a leaf below the application: it owns the protocol its call log is
        // written through (`LLMCallLog`), and Store provides the PostgreSQL side of it.
        .target(name: "LLM", dependencies: [
            "Base", "JSON", "PlanCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], resources: [.copy("Resources")]),
        .target(name: "Store", dependencies: ["Base", "Postgres", "JSON", "PlanCore", "LLM"]),
        .target(name: "Engine", dependencies: [
            "Base", "JSON", "PlanCore", "Store", "Postgres", "LLM",
            .product(name: "Crypto", package: "swift-crypto"),
        ], resources: [.copy("Resources")]),
        .target(name: "API", dependencies: [
            "Base", "FastCGI", "Postgres", "JSON", "PlanCore", "Store",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        .executableTarget(name: "masterplan", dependencies: [
            "Base", "Store", "Postgres", "JSON", "PlanCore", "LLM", "Engine", "API", "FastCGI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Tests mirror Sources/.
        .target(name: "TestSupport", dependencies: ["Base", "JSON", "Store", "Postgres"], path: "Tests/TestSupport"),
        .testTarget(name: "BaseTests", dependencies: ["Base", "TestSupport"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "PostgresTests", dependencies: ["Base", "Postgres", "TestSupport"]),
        .testTarget(name: "FastCGITests", dependencies: ["Base", "FastCGI", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Postgres", "JSON", "LLM", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LLMTests", dependencies: ["Base", "LLM", "Engine", "JSON", "Store", "Postgres", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Base", "Engine", "PlanCore", "JSON", "Store", "Postgres", "LLM", "TestSupport"]),
        .testTarget(name: "APITests", dependencies: ["Base", "API", "FastCGI", "JSON", "Store", "Postgres", "TestSupport"]),
        .testTarget(name: "masterplanTests", dependencies: ["Base", "masterplan", "Store", "Postgres", "TestSupport"]),
        .testTarget(name: "PlanCoreTests", dependencies: [
            "PlanCore", "JSON",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
