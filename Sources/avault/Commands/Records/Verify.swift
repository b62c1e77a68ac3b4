import ArgumentParser
import ArticleVault
import Dispatch
import VaultFormat
#if canImport(Glibc)
import Glibc
#endif

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the provenance of records (or, with --detached, a minisign signature of any file).",
        discussion: """
            Every file a site generator would publish gets an outcome: directories are walked for \
            *.md *.markdown *.mdown *.mkdown *.mkd *.mkdn *.txt *.html *.htm (any case; --include and --exclude \
            globs change that), hidden entries skipped. Each file's outcome is valid, invalid, untrusted, \
            revoked, expired, unsigned or malformed; it passes when a valid signature is by a trusted, \
            unrevoked key valid at its signing time (unsigned files pass unless --require-signature), and \
            its secured blob, if any, is v2 (v1 only with --allow-legacy-secured). A file without front \
            matter is unsigned unless a detached FILE.minisig signs it. --json prints one object per file \
            (JSON Lines: path, outcome, passed, reason, signatures, secured), then a summary object.

            Exit status: 0 every file passes; 1 a file fails, or --require-signature found nothing to verify; \
            2 operational error (no trust store, unreadable path); 64 usage error.

            Example: avault verify --require-signature site/
            """
    )

    @Argument(help: ArgumentHelp("Records and directories; - is one record on standard input.", valueName: "path"), completion: .file()) var paths: [String] = []
    @Flag(help: "One JSON object per record (JSON Lines), then a summary object.") var json = false
    @OptionGroup var trust: TrustOptions
    @Option(name: .customLong("keyring"), help: ArgumentHelp("The keyring directory (for its trust store and --check-decrypt).", valueName: "dir"), completion: .directory)
    var keyringDirectory: String?
    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp("With --check-decrypt: the keyring passphrase file (- is standard input).", valueName: "file"), completion: .file())
    var passphraseFile: String?
    @Option(name: .customLong("require-role"), help: ArgumentHelp("Require a valid signature by a key with this role (repeatable).", valueName: "role"))
    var requireRole: [String] = []
    @Flag(name: .customLong("require-signature"), help: "Fail unsigned records.") var requireSignature = false
    @Flag(name: .customLong("require-place"), help: "Count only signatures bound to the file's place in the site (sign --site).") var requirePlace = false
    @Flag(name: .customLong("allow-legacy-secured"), help: "Let records with legacy v1 secured blobs pass.") var allowLegacySecured = false
    @Flag(name: .customLong("check-decrypt"), help: "Check that each secured blob decrypts with --key.") var checkDecrypt = false
    @Flag(name: .customLong("allow-unauthenticated-legacy"), help: "With --check-decrypt: also try legacy v1 blobs that no trusted signature authenticates (a padding oracle).")
    var allowUnauthenticatedLegacy = false
    @Option(help: ArgumentHelp("With --check-decrypt: the name of the content key, legacy key or identity (for v3 blobs).", valueName: "name"), completion: KeyCompletion.names(.content, .legacy, .identity)) var key: String?
    @Option(help: ArgumentHelp("Worker threads (default: all cores).", valueName: "n")) var jobs: Int?
    @Option(help: ArgumentHelp("Files matching this glob, any case, when walking directories (repeatable; default: Markdown, text and HTML, and with --require-signature every file but those in _posts); files that start with front matter are taken whatever their name.", valueName: "glob"))
    var include: [String] = []
    @Option(help: ArgumentHelp("Skip files and directories matching this glob (repeatable; a leading / anchors it at the walked directory).", valueName: "glob")) var exclude: [String] = []
    @Option(help: ArgumentHelp("Verify the detached signature FILE.minisig (or -x) of this file (- is standard input, with -x).", valueName: "file"), completion: .file()) var detached: String?
    @Option(name: .customShort("x"), help: ArgumentHelp("With --detached: the signature file (- is standard input).", valueName: "sigfile"), completion: .file(extensions: ["minisig"])) var signatureFile: String?
    @Flag(name: .customLong("allow-legacy"), help: "With --detached: accept legacy (non-prehashed) Ed signatures.") var allowLegacy = false
    @OptionGroup var quiet: QuietOption

    func validate() throws {
        if detached == nil, paths.isEmpty { throw ValidationError("give records or directories to verify, or --detached FILE") }
        if detached != nil, !paths.isEmpty { throw ValidationError("--detached verifies one file; give no other paths") }
        // What applies to records only: with --detached it would be ignored, and a script
        // reading --json would get text.
        if detached != nil {
            let recordOnly = [("--json", json), ("-q", quiet.quiet), ("--require-signature", requireSignature), ("--require-place", requirePlace),
                              ("--allow-legacy-secured", allowLegacySecured), ("--check-decrypt", checkDecrypt), ("--jobs", jobs != nil),
                              ("--include", !include.isEmpty), ("--exclude", !exclude.isEmpty)]
            if let (flag, _) = recordOnly.first(where: { $0.1 }) { throw ValidationError("\(flag) applies to records, not to --detached") }
        }
        if detached == nil, signatureFile != nil || allowLegacy { throw ValidationError("-x and --allow-legacy go with --detached") }
        if checkDecrypt != (key != nil) { throw ValidationError("--check-decrypt and --key NAME go together") }
        if detached == "-", signatureFile == nil { throw ValidationError("--detached - (standard input) needs -x SIGFILE") }
        if paths.filter({ $0 == "-" }).count > 1 { throw ValidationError("- (standard input) can be given once") }
        try refuseStandardInputTwice(["passphrase": passphraseFile, "file": detached, "signature": signatureFile],
                                     each: ["record": paths, "trusted key": trust.files])
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if allowUnauthenticatedLegacy, !checkDecrypt { throw ValidationError("--allow-unauthenticated-legacy goes with --check-decrypt") }
    }

    func run() throws {
        quiet.apply()
        let ringDir = try Keyring.location(explicit: keyringDirectory)
        guard let trustPolicy = try trust.policy(keyringDirectory: ringDir, requiredRoles: requireRole) else { return }
        if let detached { return try verifyDetached(detached, trustPolicy) }

        var policy = VerifyPolicy(trust: trustPolicy)
        policy.requireSignature = requireSignature
        policy.requirePlace = requirePlace
        policy.allowLegacySecured = allowLegacySecured
        policy.allowUnauthenticatedLegacy = allowUnauthenticatedLegacy
        if checkDecrypt, let key {
            let ring = try Keyring(directory: ringDir, passphrase: PassphraseSource(file: passphraseFile, environmentVariable: "AVAULT_PASSPHRASE", label: "keyring passphrase"),
                                   agent: AgentClient.fromEnvironment(report: Terminal.agentNotice))
            policy.decryptCheck = try SecuredDecryptChecker(keyring: ring, keyName: key)
            if allowUnauthenticatedLegacy { Terminal.warning(LegacyAuthorization.oracleWarning) }
        }
        let start = monotonicSeconds()
        let files = try RecordWalker.expand(paths, include: include.isEmpty ? RecordWalker.defaultInclude : include, exclude: exclude, sitePages: true,
                                            staticFiles: requireSignature && include.isEmpty)
        let line = ProgressLine("verifying", total: files.count, enabled: !json)
        let reports = RecordVerifier(policy: policy).verifyForPublishing(files, jobs: jobs ?? cpuCount(), progress: line.enabled ? line.update : nil)
        line.finish()
        let seconds = monotonicSeconds() - start
        try print(reports, seconds: seconds)
        if requireSignature, reports.isEmpty {
            throw Failure(message: "nothing to verify: no file matched", hint: "check the paths and the --include globs", code: Exit.no)
        }
        if reports.contains(where: { !$0.passed }) { throw ExitCode(Exit.no) }
    }

    private func print(_ reports: [RecordReport], seconds: Double) throws(AvaultError) {
        // Counted by outcome and secured format (in arrays: nothing hashed per record), then named.
        let allOutcomes = RecordOutcome.allCases
        var outcomes = [Int](repeating: 0, count: allOutcomes.count)
        var formats = [0, 0, 0, 0, 0] // none, v1, v2, v3, malformed
        var passed = 0
        for r in reports {
            outcomes[allOutcomes.firstIndex(of: r.outcome)!] += 1
            if r.passed { passed += 1 }
            switch r.secured {
            case "none": formats[0] += 1
            case "v1": formats[1] += 1
            case "v2": formats[2] += 1
            case "v3": formats[3] += 1
            case "malformed": formats[4] += 1
            default: break
            }
        }
        if json {
            // The lines are made on the verification's threads, a run of reports each, in order.
            let runs = max(1, min(jobs ?? cpuCount(), reports.count / 64))
            var parts = [[UInt8]](repeating: [], count: runs)
            parts.withUnsafeMutableBufferPointer { buffer in
                nonisolated(unsafe) let parts = buffer // (each run writes its own slot only)
                DispatchQueue.concurrentPerform(iterations: runs) { run in
                    let range = (reports.count * run / runs)..<(reports.count * (run + 1) / runs)
                    var text: [UInt8] = []
                    text.reserveCapacity(range.count * 400)
                    for r in reports[range] {
                        r.json.appendJSONLine(to: &text)
                        text.append(0x0A)
                    }
                    parts[run] = text
                }
            }
            let summary = JSONOutput.document([
                ("type", .string("summary")), ("records", .number(Double(reports.count))),
                ("passed", .number(Double(passed))), ("failed", .number(Double(reports.count - passed))),
                ("outcomes", .object(zip(allOutcomes, outcomes).map { ($0.rawValue, .number(Double($1))) })),
                ("secured", .object(zip(["none", "v1", "v2", "v3", "malformed"], formats).map { ($0, .number(Double($1))) })),
                ("seconds", .number((seconds * 1000).rounded() / 1000)),
            ])
            for part in parts { try Terminal.writeStdout(part) }
            try Terminal.writeStdout(summary.jsonLine + "\n")
            return
        }
        var out = ""
        for r in reports where !r.passed {
            out += "\(Terminal.quoted(r.path, lastEscaped: r.pathIsEscaped)): \(r.outcome.rawValue)" + (r.line.map { " (line \($0))" } ?? "")
                + (r.secured == "none" ? "" : ", secured \(r.secured)") + (r.reason.map { ": \(Terminal.shown($0))" } ?? "") + "\n"
        }
        let breakdown = zip(allOutcomes, outcomes).compactMap { o, n in n > 0 ? "\(o.rawValue) \(n)" : nil }.joined(separator: ", ")
        out += "\(reports.count) record\(reports.count == 1 ? "" : "s"): \(passed) passed, \(reports.count - passed) failed"
        out += breakdown.isEmpty ? "\n" : " (\(breakdown))\n"
        try Terminal.writeStdout(out)
        let unsigned = reports.count { !$0.passed && $0.outcome == .unsigned && $0.reason == RecordVerifier.noFrontMatter }
        if unsigned > 0 {
            Terminal.hint("sign each file without front matter beside it (avault sign --detached --site SITE FILE…), "
                          + "or leave out what Jekyll does not publish (--exclude /PATH: /_site, /node_modules, /vendor/bundle, what exclude: names)")
        }
    }

    private func verifyDetached(_ file: String, _ policy: TrustPolicy) throws {
        let sigPath = signatureFile ?? file + ".minisig"
        let result = try RecordVerifier.verifyDetached(file: file, signatureFile: sigPath, policy: policy, allowLegacy: allowLegacy)
        let s = result.signature
        switch result.outcome {
        case .valid:
            try Terminal.writeStdout("Signature and comment signature verified\nTrusted comment: \(Terminal.shown(result.trustedComment, keepingTabs: true))\n")
            return
        case .untrusted where s.status == .untrusted:
            let message = trust.pubkey.count == 1 && policy.trustedKeyIDs.count == 1
                ? "\(sigPath): signed by key \(s.keyID), but the public key is \(policy.trustedKeyIDs[0])"
                : "\(sigPath): signed by key \(s.keyID), which is not trusted"
            throw Failure(message: message, hint: "give its public key with --pubkey, or add it with 'avault keys trust add'", code: Exit.no)
        default:
            break
        }
        if s.reason?.contains("legacy Ed signature") == true {
            throw Failure(message: "\(sigPath): a legacy (non-prehashed) signature", hint: "accept it with --allow-legacy", code: Exit.no)
        }
        throw Failure(message: "\(file): signature \(result.outcome.rawValue): \(result.reason ?? "verification failed")", hint: nil, code: Exit.no)
    }
}
