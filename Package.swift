// swift-tools-version:6.1
import PackageDescription

// Linux only: the code calls Glibc directly and links Debian's libsodium and libyaml through
// pkg-config, and loads libcrypto (libssl3) on first use (see README). No Apple platform is
// declared or supported.
let package = Package(
    name: "ArticleVault",
    products: [
        .executable(name: "avault", targets: ["avault"]),
        .library(name: "ArticleVault", targets: ["ArticleVault"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries. Only VaultCrypto imports these.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // OpenSSL's headers only, never linked: VaultCrypto dlopen()s libcrypto.so.3 the first
        // time it needs AES-CBC, HKDF, HMAC or SHA-256, so that a command that does not starts
        // without it (its BIND_NOW bindings were a quarter of `avault --version`).
        .systemLibrary(
            name: "COpenSSL",
            providers: [.apt(["libssl-dev"])]
        ),
        // libyaml's event parser (the C library Yams wraps), used directly: the front-matter
        // parser needs only its events, and leaving out Yams leaves out Foundation and ICU,
        // which would triple the CLI's start-up time.
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // Linux calls Glibc does not import: prctl, for the process that holds secrets; syncfs
        // and fstatfs, for a large batch of vault writes.
        .systemLibrary(name: "CLinux"),
        // libpq's function types only, never linked: ArticleVault dlopen()s libpq.so.5 when a
        // PostgreSQL vault is opened, so no other command loads it (docs/architecture.md).
        .systemLibrary(name: "CPostgres"),
        // Every cryptographic operation, secret memory, RNG, encodings.
        .target(name: "VaultCrypto", dependencies: ["CSodium", "COpenSSL", "CLinux"]),
        // Pure parse/serialize: no I/O, no crypto.
        .target(name: "VaultFormat", dependencies: ["VaultCrypto", "CYAML"]),
        // Records, secured fields, keys, all file and database I/O.
        .target(name: "ArticleVault", dependencies: ["VaultFormat", "VaultCrypto", "CPostgres", "CLinux"]),
        // The command-line tool.
        .executableTarget(
            name: "avault",
            dependencies: [
                "ArticleVault",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // bench/legacy's small-blob timing through the library (not a product; built on demand).
        .executableTarget(name: "legacy-bench", dependencies: ["ArticleVault", "VaultCrypto", "VaultFormat"], path: "bench/LegacyBench"),
        // What every test target shares: the repository's files, a seeded generator.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "VaultCryptoTests", dependencies: ["VaultCrypto", "TestSupport"]),
        .testTarget(name: "VaultFormatTests", dependencies: ["VaultFormat", "TestSupport"]),
        .testTarget(name: "ArticleVaultTests", dependencies: ["ArticleVault", "TestSupport"]),
        .testTarget(name: "AvaultCLITests", dependencies: ["avault", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
