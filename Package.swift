// swift-tools-version: 6.1
// OppSync: offline-first opportunity sync. The folder tree is the architecture
// (STYLE.md): core → wire → store → replica / hub → command libraries → executables.
import PackageDescription

let package = Package(
    name: "OppSync",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "opps", targets: ["opps"]),
        .executable(name: "opps-hub", targets: ["opps-hub"]),
        .library(name: "OppsCore", targets: ["OppsCore"]),
        .library(name: "OppsWire", targets: ["OppsWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        // Already in the graph through async-http-client and Hummingbird: SHA-256 for tokens and batches.
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        // Already in the graph through both: the hub's serial executor, the transport's TLS and errors.
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        // The hub's store on PostgreSQL (several hubs on one database).
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        // System libraries from Debian (libsqlite3-dev, zlib1g-dev).
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Whole-buffer deflate: 2.3× zlib's speed at level 1 and 3× at inflating (BENCHMARKS.md,
        // twentieth session); the same zlib and gzip formats on the wire.
        .systemLibrary(name: "CLibdeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),

        // CSV as RFC 4180 has it: what export writes and import reads (a file format, not a rule).
        .target(name: "OppsCSV"),
        // Pure logic: no package dependencies, no Foundation, no I/O.
        .target(name: "OppsCore"),
        // The protocol: messages, encode/decode, compression, version negotiation.
        .target(
            name: "OppsWire",
            dependencies: [
                "OppsCore", "CLibdeflate",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        // Every SQL statement of the project.
        .target(name: "OppsStore", dependencies: ["OppsCore", "CSQLite3"]),
        // The hub store on PostgreSQL: its schema and its transactions (the statements are
        // OppsStore's). Only the hub links it.
        .target(
            name: "OppsPostgres",
            dependencies: [
                "OppsCore", "OppsStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // The client library: local edits, outbox, sync engine, HTTP transport.
        .target(
            name: "OppsReplica",
            dependencies: [
                "OppsCore", "OppsWire", "OppsStore", "OppsCSV", "OppsConsole",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // The server library: routes, auth, push/pull handling, the hub store.
        .target(
            name: "OppsHub",
            dependencies: [
                "OppsCore", "OppsWire", "OppsStore", "OppsPostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // `opps web`: the pipeline in a browser, served from the laptop's replica (loopback only).
        .target(
            name: "OppsWeb",
            dependencies: [
                "OppsCore", "OppsReplica", "OppsStore", "OppsConsole",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // A program started as a child process with posix_spawn and waited for with waitpid: not
        // Foundation's Process, which crashed and hung in processes with many threads and
        // descriptors (the test runner's; ChildProcess.swift says how).
        .target(name: "OppsChildProcess"),
        // Where commands write (stdout/stderr, or a buffer in tests).
        .target(name: "OppsConsole", dependencies: ["OppsCore"]),
        // What both command lines share about their commands: Chinese help pages, usage errors.
        .target(name: "OppsCommandLine", dependencies: ["OppsConsole", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Command types, testable in-process.
        .target(
            name: "OppsCommands",
            dependencies: [
                "OppsCore", "OppsReplica", "OppsConsole", "OppsCommandLine", "OppsCSV", "OppsWeb", "OppsChildProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(
            name: "OppsHubCommands",
            dependencies: [
                "OppsCore", "OppsWire", "OppsHub", "OppsStore", "OppsPostgres", "OppsConsole", "OppsCommandLine", "OppsReplica", "OppsCSV",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "opps", dependencies: ["OppsCommands"]),
        // Tools: the seeded fault simulator (never a library product). Its runs are tested too.
        .target(
            name: "OppsSimulation",
            dependencies: ["OppsCore", "OppsWire", "OppsStore", "OppsHub", "OppsReplica", "OppsPostgres", "OppsCSV", "OppsChildProcess"], path: "Tools/Simulation"),
        .executableTarget(name: "opps-sim", dependencies: ["OppsSimulation"], path: "Tools/Simulator"),
        // Tools: the benchmark suite (plain timing, no benchmark framework, so it costs the build seconds).
        .executableTarget(
            name: "opps-bench",
            dependencies: [
                "OppsCore", "OppsWire", "OppsStore", "OppsHub", "OppsReplica", "OppsSimulation", "OppsWeb", "OppsPostgres", "CSQLite3", "OppsChildProcess",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ], path: "Tools/Benchmarks"),
        .executableTarget(name: "opps-hub", dependencies: ["OppsHubCommands", "OppsHub", .product(name: "Logging", package: "swift-log")]),
        // Tools: every decoder a user's bytes reach, with its invariants (Tools/fuzz.sh; a test runs the seeds).
        .target(
            name: "OppsFuzzing", dependencies: ["OppsCore", "OppsWire", "OppsCSV", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Tools/Fuzzing"),

        // What the test targets share: repository files read in place, a clock tests move.
        .target(name: "OppsTestSupport", dependencies: ["OppsCore", "OppsPostgres", "OppsChildProcess"], path: "Tests/OppsTestSupport"),
        .testTarget(name: "OppsCoreTests", dependencies: ["OppsCore", "OppsTestSupport"]),
        .testTarget(name: "OppsCSVTests", dependencies: ["OppsCSV"]),
        .testTarget(name: "OppsWireTests", dependencies: ["OppsWire", "OppsCore", "OppsTestSupport", "CZlib"]),
        .testTarget(name: "OppsStoreTests", dependencies: ["OppsStore", "OppsCore", "OppsPostgres", "OppsTestSupport"]),
        .testTarget(name: "SimulationTests", dependencies: ["OppsSimulation", "OppsTestSupport"]),
        .testTarget(name: "FuzzingTests", dependencies: ["OppsFuzzing", "OppsWire", "OppsCore"]),
        .testTarget(
            name: "OppsHubTests",
            dependencies: [
                "OppsHub", "OppsCore", "OppsWire", "OppsStore", "OppsSimulation", "OppsTestSupport", "OppsReplica", "OppsPostgres", "OppsCSV",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),
        .testTarget(
            name: "OppsCommandsTests",
            dependencies: [
                "OppsCommands", "OppsHubCommands", "OppsCore", "OppsHub", "OppsStore", "OppsReplica", "OppsWire", "OppsConsole", "OppsTestSupport", "OppsCSV", "OppsWeb",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)

// The libFuzzer executable exists only for Tools/fuzz.sh, which builds it with
// -sanitize=fuzzer,address in its own scratch path (OPPS_FUZZ=1): a normal build never sees it.
if Context.environment["OPPS_FUZZ"] != nil {
    package.targets.append(.target(name: "FuzzerDriver", path: "Tools/FuzzerDriver"))
    package.targets.append(.executableTarget(name: "opps-fuzz", dependencies: ["OppsFuzzing", "FuzzerDriver"], path: "Tools/Fuzzer"))
}
