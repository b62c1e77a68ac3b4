import Foundation
import Testing

/// A throwaway keyring in a fresh temporary directory, driven through the real `avault`
/// binary with a fully explicit environment: every AVAULT_* variable the test does not give
/// is removed (with `env -u`), so nothing depends on the outer environment. Passphrases go
/// through the environment, never through argv. Every result is kept in `transcript` so a
/// test can check that no secret and no passphrase was ever printed.
final class KeysFixture {
    /// Variables avault (or these tests) read; all are unset unless a test gives them.
    static let avaultVariables = ["AVAULT_PASSPHRASE", "AVAULT_NEW_PASSPHRASE", "AVAULT_MINISIGN_PASSPHRASE", "AVAULT_AGE_PASSPHRASE",
                                  "AVAULT_KEYRING", "AVAULT_TRUST_STORE", "AVAULT_AGENT_SOCK", "XDG_RUNTIME_DIR"]

    let dir: URL
    /// The keyring passphrase given to every command unless overridden.
    var passphrase: String
    /// Every avault run: its arguments and result.
    private(set) var transcript: [(args: [String], result: CLI.Result)] = []
    /// Every passphrase-like value ever handed to a command.
    private(set) var passphrasesUsed: Set<String> = []

    init(passphrase: String = "kt-pass-" + UUID().uuidString.prefix(8).lowercased()) throws {
        dir = try CLI.tempDirectory()
        self.passphrase = passphrase
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// The keyring directory (not created until a command creates it).
    var ring: String { dir.appendingPathComponent("ring").path }
    var keyringFile: String { ring + "/keyring.avk" }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Runs `avault args… --keyring RING` (unless `keyring` is false). `env` values override
    /// the defaults (AVAULT_KEYRING=RING, AVAULT_PASSPHRASE=passphrase); a nil value unsets.
    @discardableResult
    func avault(_ args: [String], env: [String: String?] = [:], stdin: Data = Data(), cwd: URL? = nil,
                keyring: Bool = true) throws -> CLI.Result {
        var given: [String: String?] = ["AVAULT_KEYRING": ring, "AVAULT_PASSPHRASE": passphrase]
        for (k, v) in env { given[k] = v }
        var set: [String: String] = [:]
        for (k, v) in given { if let v { set[k] = v } }
        for (k, v) in set where k.hasSuffix("PASSPHRASE") { passphrasesUsed.insert(v) }
        var unset: [String] = []
        for name in Self.avaultVariables where set[name] == nil { unset += ["-u", name] }
        let fullArgs = args + (keyring ? ["--keyring", ring] : [])
        let result = try CLI.run("/usr/bin/env", unset + [CLI.avaultPath] + fullArgs, stdin: stdin, cwd: cwd, env: set)
        transcript.append((fullArgs, result))
        return result
    }

    /// Parses the single JSON object a `--json` command printed.
    func json(_ args: [String], env: [String: String?] = [:], keyring: Bool = true,
              sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let r = try avault(args + ["--json"], env: env, keyring: keyring)
        #expect(r.code == 0, "\(args): \(r.err)", sourceLocation: sourceLocation)
        return try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], sourceLocation: sourceLocation)
    }

    /// `keys list --json`'s entries.
    func listedKeys(sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        let object = try json(["keys", "list"], sourceLocation: sourceLocation)
        return try #require(object["keys"] as? [[String: Any]], sourceLocation: sourceLocation)
    }

    /// The listed entry for `name` version `version`.
    func listed(_ name: String, _ version: Int, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(try listedKeys(sourceLocation: sourceLocation).first { $0["name"] as? String == name && $0["version"] as? Int == version },
                     "no listed key \(name) v\(version)", sourceLocation: sourceLocation)
    }

    /// A private (mode 600) copy of `keys/NAME` in the fixture directory.
    func keyFile(_ name: String) throws -> String {
        let text = try String(contentsOf: CLI.repoRoot.appendingPathComponent("keys/" + name), encoding: .utf8)
        let url = dir.appendingPathComponent(name)
        try CLI.write(text, to: url, mode: 0o600)
        return url.path
    }

    /// Encrypts `plaintext` with keyring key `name`; returns the blob (one line, no newline).
    func encrypt(_ plaintext: String, key name: String, context: String = "ctx", sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try avault(["secured", "encrypt", "--key", name, "--context", context], stdin: Data(plaintext.utf8))
        #expect(r.code == 0, "encrypt: \(r.err)", sourceLocation: sourceLocation)
        return r.out.trimmingCharacters(in: .newlines)
    }

    /// The plain (unprotected) secrets stored in the keyring file, decoded.
    func plainSecrets() throws -> [[UInt8]] {
        let text = try String(contentsOfFile: keyringFile, encoding: .utf8)
        return try text.split(separator: "\n").filter { $0.hasPrefix("secret: plain ") }.map {
            [UInt8](try #require(Data(base64Encoded: String($0.dropFirst("secret: plain ".count)))))
        }
    }

    /// Checks that no output so far contains any textual form of `secrets` or any passphrase.
    func expectNoLeaks(of secrets: [[UInt8]], sourceLocation: SourceLocation = #_sourceLocation) {
        let needles = secrets.flatMap(KeysFixture.textForms) + passphrasesUsed.filter { $0.count >= 6 }
        for (args, r) in transcript {
            let all = r.out + "\n" + r.err
            for needle in needles where all.contains(needle) {
                Issue.record("output of avault \(args.joined(separator: " ")) contains a secret or passphrase", sourceLocation: sourceLocation)
            }
        }
    }

    /// Lower and upper hex and base64 (without padding, so also any padded form) of `secret`.
    static func textForms(_ secret: [UInt8]) -> [String] {
        let hex = CLI.hex(secret)
        var b64 = Data(secret).base64EncodedString()
        while b64.hasSuffix("=") { b64.removeLast() }
        return [hex, hex.uppercased(), b64]
    }

    /// The 32-byte Ed25519 seed inside an unprotected minisign secret key file (as written by
    /// `minisign -G -W` or `avault keys export-minisign --unprotected`).
    static func minisignSeed(file: String) throws -> [UInt8] {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let lines = text.split(separator: "\n")
        try #require(lines.count == 2)
        let raw = [UInt8](try #require(Data(base64Encoded: String(lines[1]))))
        try #require(raw.count == 158)
        try #require(raw[2] == 0 && raw[3] == 0, "the minisign key is protected")
        return Array(raw[(54 + 8)..<(54 + 8 + 32)])
    }

    /// The bytes a raw key file holds (hex or base64).
    static func rawKey(file: String) throws -> [UInt8] {
        let text = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.count % 2 == 0, text.allSatisfy(\.isHexDigit) {
            var out: [UInt8] = []
            var i = text.startIndex
            while i < text.endIndex {
                let j = text.index(i, offsetBy: 2)
                out.append(try #require(UInt8(text[i..<j], radix: 16)))
                i = j
            }
            return out
        }
        return [UInt8](try #require(Data(base64Encoded: text)))
    }

    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    static func chmod(_ path: String, _ mode: Int) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    /// Fails the test clearly if the real `minisign` is not on PATH.
    static func requireMinisign(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run("minisign", ["-v"])
        try #require(r.code == 0 && r.out.hasPrefix("minisign"),
                     "the real 'minisign' binary (0.11) must be on PATH for these tests (apt-get install minisign)",
                     sourceLocation: sourceLocation)
    }
}

/// A 16-digit key id as minisign prints it: without leading zeros.
func minisignIDText(_ id: String) -> String {
    let trimmed = id.drop { $0 == "0" }
    return trimmed.isEmpty ? "0" : String(trimmed)
}
