// swift-tools-version:6.1
import Foundation
import PackageDescription

/// Couplet's libFuzzer targets, kept out of the main package so that its `swift build` and
/// `swift test` never see them: each target is a directory `Sources/Fuzz<Name>` holding one
/// `main.swift` that hands the function to fuzz to libFuzzer, found here by name. They link only
/// with `-sanitize=fuzzer`, which brings libFuzzer. `deploy/fuzz` builds and runs them.

/// The directory names of the fuzz targets; `FuzzInput` is the helper library they share, over
/// `CLibFuzzer`, the declaration of libFuzzer's driver.
let fuzzTargets = ((try? FileManager.default.contentsOfDirectory(atPath: Context.packageDirectory + "/Sources")) ?? [])
    .filter { $0.hasPrefix("Fuzz") && $0 != "FuzzInput" }
    .sorted()

/// SwiftPM names a package that is depended on by path after its directory: the repository's.
let couplet = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "CoupletFuzz",
    platforms: [.macOS(.v15)],
    products: fuzzTargets.map { .executable(name: $0, targets: [$0]) },
    dependencies: [.package(path: "..")],
    targets: [.target(name: "CLibFuzzer"), .target(name: "FuzzInput", dependencies: ["CLibFuzzer"])] + fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "FuzzInput",
                .product(name: "Cron", package: couplet),
                .product(name: "Postgres", package: couplet),
                .product(name: "Sync", package: couplet),
            ]
        )
    },
    swiftLanguageModes: [.v6]
)
