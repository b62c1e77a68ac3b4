import Foundation
import TestSupport
import Testing
import VaultCrypto

/// Locates and reads the repository's `Fixtures/`.
enum Fixtures {
    static let repoRoot: URL = Repository.root

    static func url(_ relative: String) -> URL { repoRoot.appendingPathComponent(relative) }

    static func files(in relative: String, suffix: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: url(relative), includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasSuffix(suffix) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// A vector file in the age style: `name: value` lines, in the given order, all required,
    /// unknown names an error. Returns the values by name.
    static func vectorFile(_ url: URL, names: [String]) throws -> [String: String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        try #require(lines.count == names.count, "\(url.lastPathComponent): expected \(names.count) lines")
        var values: [String: String] = [:]
        for (line, name) in zip(lines, names) {
            let prefix = name + ": "
            try #require(line.hasPrefix(prefix), "\(url.lastPathComponent): expected '\(name): ', got '\(line)'")
            values[name] = String(line.dropFirst(prefix.count))
        }
        return values
    }

    /// A key file from `keys/`.
    static func key(_ name: String) throws -> SecretBytes {
        let text = try String(contentsOf: url("keys/" + name), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if let hex = try? Hex.decode(text) { return SecretBytes(copying: hex) }
        return SecretBytes(copying: try Base64.decode(text))
    }
}
