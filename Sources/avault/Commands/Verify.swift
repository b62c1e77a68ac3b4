import ArgumentParser
import ArticleVault
import VaultCrypto
import VaultFormat
#if canImport(Glibc)
import Glibc
#endif

/// Where trusted keys come from: `--pubkey PUB` or `--trust-store FILE` (default: the keyring's).
struct TrustOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Trust exactly this minisign public key file.", valueName: "pubfile")) var pubkey: String?
    @Option(name: .customLong("trust-store"), help: ArgumentHelp("The trust store (default: trust.avt in the keyring).", valueName: "file"))
    var trustStore: String?

    func validate() throws {
        if pubkey != nil, trustStore != nil { throw ValidationError("give --pubkey or --trust-store, not both") }
    }

    func load(keyringDirectory: String) throws(AvaultError) -> TrustSource {
        if let pubkey {
            let text = String(decoding: try FileSystem.read(pubkey), as: UTF8.self)
            do { return .publicKey(try Minisign.PublicKey(parsing: text)) } catch { throw .malformed(error, file: pubkey) }
        }
        let path = TrustStore.location(explicit: trustStore, keyringDirectory: keyringDirectory)
        if trustStore == nil, !FileSystem.exists(path) {
            Terminal.warning("no trust store at \(path): no signature can be trusted (add keys with 'avault keys trust add', or give --pubkey)")
        }
        return .store(try TrustStore(path: path, mustExist: trustStore != nil).file)
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the provenance of records (or, with --detached, a minisign signature of any file).",
        discussion: """
            Directories are walked for *.md and *.txt files with front matter (--include and --exclude \
            globs change that). Each record's outcome is valid, invalid, untrusted, revoked, expired, \
            unsigned or malformed; it passes when a valid signature is by a trusted, unrevoked key \
            valid at its signing time (unsigned records pass unless --require-signature), and its \
            secured blob, if any, is v2 (v1 only with --allow-legacy-secured). Field names of --json \
            (JSON Lines) are documented in docs/cli.md.

            Exit status: 0 every record passes; 1 a record fails; 2 operational error; 64 usage error.
            """
    )

    @Argument(help: ArgumentHelp("Records and directories.", valueName: "path")) var paths: [String] = []
    @Flag(help: "One JSON object per record (JSON Lines), then a summary object.") var json = false
    @OptionGroup var trust: TrustOptions
    @Option(name: .customLong("keyring"), help: ArgumentHelp("The keyring directory (for its trust store and --check-decrypt).", valueName: "dir"))
    var keyringDirectory: String?
    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp("With --check-decrypt: the keyring passphrase file.", valueName: "file"))
    var passphraseFile: String?
    @Option(name: .customLong("require-role"), help: ArgumentHelp("Require a valid signature by a key with this role (repeatable).", valueName: "role"))
    var requireRole: [String] = []
    @Flag(name: .customLong("require-signature"), help: "Fail unsigned records.") var requireSignature = false
    @Flag(name: .customLong("allow-legacy-secured"), help: "Let records with legacy v1 secured blobs pass.") var allowLegacySecured = false
    @Flag(name: .customLong("check-decrypt"), help: "Check that each secured blob decrypts with --key.") var checkDecrypt = false
    @Option(help: ArgumentHelp("With --check-decrypt: the content or legacy key's name.", valueName: "name")) var key: String?
    @Option(help: ArgumentHelp("Worker threads (default: all cores).", valueName: "n")) var jobs: Int?
    @Option(help: ArgumentHelp("Only files matching this glob, when walking directories (repeatable; default *.md and *.txt).", valueName: "glob"))
    var include: [String] = []
    @Option(help: ArgumentHelp("Skip files and directories matching this glob (repeatable).", valueName: "glob")) var exclude: [String] = []
    @Option(help: ArgumentHelp("Verify the detached signature FILE.minisig (or -x) of this file.", valueName: "file")) var detached: String?
    @Option(name: .customShort("x"), help: ArgumentHelp("With --detached: the signature file.", valueName: "sigfile")) var signatureFile: String?
    @Flag(name: .customLong("allow-legacy"), help: "With --detached: accept legacy (non-prehashed) Ed signatures.") var allowLegacy = false

    func validate() throws {
        if detached == nil, paths.isEmpty { throw ValidationError("give records or directories to verify, or --detached FILE") }
        if detached != nil, !paths.isEmpty { throw ValidationError("--detached verifies one file; give no other paths") }
        if checkDecrypt != (key != nil) { throw ValidationError("--check-decrypt and --key NAME go together") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        let ringDir = Keyring.location(explicit: keyringDirectory)
        let source = try trust.load(keyringDirectory: ringDir)
        if let detached { return try verifyDetached(detached, source) }

        var policy = VerifyPolicy(trust: source)
        policy.requiredRoles = requireRole
        policy.requireSignature = requireSignature
        policy.allowLegacySecured = allowLegacySecured
        if checkDecrypt, let key {
            policy.decryptCheck = try decryptChecker(ringDir, key)
        }
        let start = monotonicSeconds()
        let files = try RecordWalker.expand(paths, include: include.isEmpty ? RecordWalker.defaultInclude : include, exclude: exclude)
        let showProgress = !json && isatty(2) == 1
        let total = files.count
        var progress: (@Sendable (Int) -> Void)?
        if showProgress {
            progress = { (done: Int) -> Void in
                if monotonicSeconds() - start > 1 {
                    let line: String = "\rverifying: \(done)/\(total)"
                    Terminal.writeStderr(line)
                }
            }
        }
        let reports = RecordVerifier(policy: policy).verifyAll(files, jobs: jobs ?? cpuCount(), progress: progress)
        if showProgress, monotonicSeconds() - start > 1 { Terminal.writeStderr("\r\u{1B}[K") }
        let seconds = monotonicSeconds() - start
        print(reports, seconds: seconds)
        if reports.contains(where: { !$0.passed }) { throw ExitCode(Exit.no) }
    }

    private func print(_ reports: [RecordReport], seconds: Double) {
        var counts: [String: Int] = [:]
        var secured: [String: Int] = [:]
        for r in reports { counts[r.outcome.rawValue, default: 0] += 1; secured[r.secured, default: 0] += 1 }
        let passed = reports.filter(\.passed).count
        if json {
            var out = ""
            out.reserveCapacity(reports.count * 200)
            for r in reports { out += r.json.jsonText + "\n" }
            let summary: FieldValue = .object([
                ("type", .string("summary")), ("records", .number(Double(reports.count))),
                ("passed", .number(Double(passed))), ("failed", .number(Double(reports.count - passed))),
                ("outcomes", .object(RecordOutcome.allCases.map { ($0.rawValue, .number(Double(counts[$0.rawValue] ?? 0))) })),
                ("secured", .object(["none", "v1", "v2", "malformed"].map { ($0, .number(Double(secured[$0] ?? 0))) })),
                ("seconds", .number((seconds * 1000).rounded() / 1000)),
            ])
            Terminal.writeStdout(out + summary.jsonText + "\n")
            return
        }
        var out = ""
        for r in reports where !r.passed {
            out += "\(r.path): \(r.outcome.rawValue)" + (r.line.map { " (line \($0))" } ?? "")
                + (r.secured == "none" ? "" : ", secured \(r.secured)") + (r.reason.map { ": \($0)" } ?? "") + "\n"
        }
        let breakdown = RecordOutcome.allCases.compactMap { o in counts[o.rawValue].map { "\(o.rawValue) \($0)" } }.joined(separator: ", ")
        out += "\(reports.count) record\(reports.count == 1 ? "" : "s"): \(passed) passed, \(reports.count - passed) failed"
        out += breakdown.isEmpty ? "\n" : " (\(breakdown))\n"
        Terminal.writeStdout(out)
    }

    private func verifyDetached(_ file: String, _ source: TrustSource) throws {
        let sigPath = signatureFile ?? file + ".minisig"
        let text = String(decoding: try FileSystem.read(sigPath), as: UTF8.self)
        let signature: Minisign.Signature
        do { signature = try Minisign.Signature(parsing: text) } catch { throw AvaultError.malformed(error, file: sigPath) }
        var entry: TrustStoreFile.Entry?
        switch source {
        case .publicKey(let key):
            guard key.keyID == signature.keyID else {
                throw Failure(message: "\(sigPath): signed by key \(signature.keyID.printed), but the public key is \(key.keyID.printed)",
                              hint: nil, code: Exit.no)
            }
            entry = TrustStoreFile.Entry(publicKey: key, name: "--pubkey", added: "1970-01-01T00:00:00Z")
        case .store(let store):
            entry = store.entry(for: signature.keyID)
        }
        guard let entry else {
            throw Failure(message: "\(sigPath): signed by key \(signature.keyID.printed), which is not trusted", hint: "give --pubkey or add the key with 'avault keys trust add'", code: Exit.no)
        }
        switch try RecordSigner.verifyDetached(path: file, signature: signature, publicKey: entry.publicKey, allowLegacy: allowLegacy) {
        case .valid:
            if let revoked = entry.revoked {
                throw Failure(message: "\(file): signed by key \(signature.keyID.printed), which was revoked on \(revoked.time)", hint: nil, code: Exit.no)
            }
            Terminal.writeStdout("Signature and comment signature verified\nTrusted comment: \(signature.trustedComment)\n")
        case .legacyRefused:
            throw Failure(message: "\(sigPath): a legacy (non-prehashed) signature", hint: "accept it with --allow-legacy", code: Exit.no)
        case .badTrustedComment:
            throw Failure(message: "\(sigPath): the trusted comment was altered (comment signature verification failed)", hint: nil, code: Exit.no)
        case .badSignature, .keyMismatch:
            throw Failure(message: "\(file): signature verification failed", hint: nil, code: Exit.no)
        }
    }

    /// A thread-safe check that a blob decrypts with key `name` (secrets unsealed once).
    private func decryptChecker(_ ringDir: String, _ name: String) throws(AvaultError) -> @Sendable (SecuredBlob, String) -> Bool {
        let ring = try Keyring(directory: ringDir, passphrase: PassphraseSource(file: passphraseFile, environmentVariable: "AVAULT_PASSPHRASE", label: "keyring passphrase"))
        let versions = ring.versions(of: name).filter { $0.retired == nil }
        guard !versions.isEmpty else { throw ring.noSuchKey(name) }
        var unsealed: [(id: String, secret: SecretBytes)] = []
        for v in versions.reversed() { unsealed.append((v.id, try ring.secret(of: v))) }
        let keys = unsealed
        let kind = versions[0].algorithm.kind
        return { blob, context in
            switch blob {
            case .v2(let kid, _, _):
                guard kind == "content", let k = keys.first(where: { $0.id == kid.hex }) else { return false }
                return (try? SecuredField.decrypt(blob, key: k.secret, context: context)) != nil
            case .v1:
                guard kind == "legacy" else { return false }
                return keys.contains { (try? SecuredField.decrypt(blob, key: $0.secret, context: context)) != nil }
            }
        }
    }
}

extension RecordReport {
    /// The JSON Lines object documented in docs/cli.md.
    var json: FieldValue {
        .object([
            ("type", .string("record")), ("path", .string(path)), ("outcome", .string(outcome.rawValue)),
            ("passed", .bool(passed)), ("reason", reason.map(FieldValue.string) ?? .null),
            ("line", line.map { .number(Double($0)) } ?? .null),
            ("signatures", .array(signatures.map { s in
                .object([
                    ("keyId", .string(s.keyID)), ("status", .string(s.status)), ("signer", s.signer.map(FieldValue.string) ?? .null),
                    ("roles", .array(s.roles.map(FieldValue.string))),
                    ("timestamp", s.timestamp.map { .number(Double($0)) } ?? .null), ("reason", s.reason.map(FieldValue.string) ?? .null),
                ])
            })),
            ("secured", .object([("format", .string(secured)), ("keyId", securedKeyID.map(FieldValue.string) ?? .null),
                                 ("decrypts", decrypts.map(FieldValue.bool) ?? .null)])),
        ])
    }
}

func cpuCount() -> Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
