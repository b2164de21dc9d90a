// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Codestrator",
    // Linux is the platform it runs on (it reads /proc, waits on pidfds); the macOS floor is what the code's
    // APIs need there: Synchronization's Mutex (RootIdentity, the log level) is macOS 15.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "codestrator", targets: ["codestrator"]),
        .executable(name: "codestrator-bench", targets: ["codestrator-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(
            name: "CodestratorCore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "CodestratorRuntime", dependencies: ["CodestratorCore"]),
        .target(name: "CodestratorMCP", dependencies: ["CodestratorCore"]),
        .target(
            name: "CodestratorHTTP",
            dependencies: [
                "CodestratorCore", "CodestratorMCP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "CodestratorInstall",
            dependencies: [
                "CodestratorCore", "CodestratorMCP",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        // The composition root: the only library that picks the Runtime adapters for the layers above Core.
        .target(name: "CodestratorAssembly", dependencies: ["CodestratorCore", "CodestratorRuntime", "CodestratorMCP"]),
        // A test tool: its git comes from the assembly; it runs git and the hook command through ProcessRunner.
        .target(name: "SimAgent", dependencies: ["CodestratorCore", "CodestratorRuntime"]),
        .executableTarget(
            name: "codestrator",
            dependencies: [
                "CodestratorCore", "CodestratorRuntime", "CodestratorMCP", "CodestratorHTTP", "CodestratorInstall",
                "CodestratorAssembly", "SimAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // No dynamic symbol table of the whole program: nothing loads into this executable, and every
            // process (up to 64 child servers at once) paged in the exported symbols at start, about 2.8 MB
            // of each server's RSS (docs/performance.md#a-childs-server).
            linkerSettings: [.unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux]))]
        ),
        .executableTarget(
            name: "codestrator-bench",
            dependencies: [],
            path: "Benchmarks/codestrator-bench"
        ),
        // Test support (not a test target): fakes at the ports and the registry harness, shared by the test targets.
        .target(
            name: "CodestratorTesting",
            dependencies: ["CodestratorCore", "CodestratorRuntime", "CodestratorMCP", "CodestratorAssembly"],
            path: "Tests/CodestratorTesting"
        ),
        // Unit tests of the domain: fakes at the ports, a real SQLite store, no git and no tmux.
        .testTarget(
            name: "CodestratorCoreTests",
            dependencies: ["CodestratorCore", "CodestratorTesting"],
            exclude: ["Fixtures"]
        ),
        // The adapters against real git and real tmux on a private socket.
        .testTarget(name: "CodestratorRuntimeTests", dependencies: ["CodestratorCore", "CodestratorRuntime"]),
        // The registry and the services behind it on a real repository (`Harness`).
        .testTarget(
            name: "CodestratorMCPTests",
            dependencies: [
                "CodestratorCore", "CodestratorRuntime", "CodestratorMCP", "CodestratorAssembly", "CodestratorTesting",
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "CodestratorHTTPTests",
            dependencies: ["CodestratorCore", "CodestratorMCP", "CodestratorHTTP", "CodestratorTesting"]
        ),
        .testTarget(
            name: "CodestratorInstallTests",
            dependencies: [
                "CodestratorCore", "CodestratorRuntime", "CodestratorMCP", "CodestratorInstall", "CodestratorAssembly",
                "CodestratorTesting",
            ]
        ),
        .testTarget(name: "SimAgentTests", dependencies: ["SimAgent", "CodestratorCore"]),
    ],
    swiftLanguageModes: [.v6]
)
