import ArgumentParser
import ArticleVault
import VaultFormat

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Inventory signed records: by signer, key id and role, by secured format, unsigned, failing, and what needs attention.",
        discussion: """
            Records are found and judged as 'avault verify' does (same trust options and policy flags). \
            A record needs attention when it fails, is unsigned, still has a legacy v1 secured blob, or \
            carries a signature that is invalid, revoked, expired or untrusted. --json prints the same counts \
            as one object. --html FILE writes one self-contained HTML page \
            (inline CSS and SVG charts, no scripts, nothing fetched) with the same counts: outcomes, secured \
            formats and legacy v1 blobs remaining, valid signatures by signer, role and month of the \
            record's date, and what needs attention; it refuses to replace FILE without --force.

            Example: avault audit --html audit.html site/

            Exit status: 0 the audit ran (whatever it found); 2 operational error; 64 usage error.
            """
    )

    @Argument(help: ArgumentHelp("Records and directories.", valueName: "path"), completion: .file()) var paths: [String]
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: ArgumentHelp("Also write the report as one self-contained HTML file.", valueName: "file"), completion: .file(extensions: ["html"]))
    var html: String?
    @Flag(help: "With --html: replace an existing file.") var force = false
    @OptionGroup var trust: TrustOptions
    @Option(name: .customLong("keyring"), help: ArgumentHelp("The keyring directory (for its trust store).", valueName: "dir"), completion: .directory)
    var keyringDirectory: String?
    @Flag(name: .customLong("require-signature"), help: "Count unsigned records as failing.") var requireSignature = false
    @Flag(name: .customLong("require-place"), help: "Count only signatures bound to the file's place in the site (sign --site).") var requirePlace = false
    @Flag(name: .customLong("allow-legacy-secured"), help: "Do not count legacy v1 secured blobs as failing.") var allowLegacySecured = false
    @Option(help: ArgumentHelp("Worker threads (default: all cores).", valueName: "n")) var jobs: Int?
    @Option(help: ArgumentHelp("Files matching this glob when walking, as verify takes them (repeatable).", valueName: "glob")) var include: [String] = []
    @Option(help: ArgumentHelp("Skip files and directories matching this glob (repeatable; a leading / anchors it at the walked directory).", valueName: "glob")) var exclude: [String] = []
    @OptionGroup var quiet: QuietOption

    /// How a key is named in the reports: its trust store name, else whether it was trusted
    /// (by `--pubkey`, which names no key) or not.
    static func signerLabel(_ signer: String?, trusted: Bool) -> String {
        signer ?? (trusted ? "(trusted by --pubkey)" : "(untrusted)")
    }

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give records or directories to audit") }
        if force, html == nil { throw ValidationError("--force goes with --html FILE") }
        try refuseStandardOutput(html, option: "--html", names: "a file written beside the report printed")
        if let html { try refuseSameFileTwice(writes: [html], reads: paths) }
        try refuseStandardInputTwice([:], each: ["record": paths, "trusted key": trust.files])
    }

    func run() throws {
        quiet.apply()
        if let html { try FileSystem.checkOutput(html, force: force) }
        guard let trustPolicy = try trust.policy(keyringDirectory: try Keyring.location(explicit: keyringDirectory)) else { return }
        var policy = VerifyPolicy(trust: trustPolicy)
        policy.requireSignature = requireSignature
        policy.requirePlace = requirePlace
        policy.allowLegacySecured = allowLegacySecured
        let files = try RecordWalker.expand(paths, include: include.isEmpty ? RecordWalker.defaultInclude : include, exclude: exclude, sitePages: true,
                                            staticFiles: requireSignature && include.isEmpty)
        // A record the walk found, too: --force would replace it with the report.
        if let html { try refuseSameFileTwice(writes: [html], reads: files.filter { !$0.named && $0.kind == .regular }.map(\.path)) }
        let line = ProgressLine("auditing", total: files.count)
        let reports = RecordVerifier(policy: policy).verifyForPublishing(files, jobs: jobs ?? cpuCount(), progress: line.enabled ? line.update : nil)
        line.finish()

        var bySigner: [String: Int] = [:], byKey: [String: (signer: String?, trusted: Bool, roles: [String], count: Int)] = [:], byRole: [String: Int] = [:]
        var secured: [String: Int] = [:], outcomes: [String: Int] = [:]
        var attention: [(path: String, escaped: Bool, reasons: [String])] = []
        var byMonth: [String: Int] = [:]
        for r in reports {
            outcomes[r.outcome.rawValue, default: 0] += 1
            secured[r.secured, default: 0] += 1
            var reasons: [String] = []
            // A key counts once per record: repeating a record's signature entry (which needs no
            // key) must not add to what a signer signed.
            var seen = Set<String>(), seenValid = Set<String>()
            for s in r.signatures {
                // A key with no name is one `--pubkey` trusts unless its signatures were judged untrusted.
                if s.status != .untrusted { byKey[s.keyID, default: (s.signer, false, s.roles, 0)].trusted = true }
                if seen.insert(s.keyID).inserted {
                    var k = byKey[s.keyID] ?? (s.signer, false, s.roles, 0)
                    k.count += 1
                    byKey[s.keyID] = k
                }
                if s.status == .valid {
                    guard seenValid.insert(s.keyID).inserted else { continue }
                    bySigner[s.signer ?? s.keyID, default: 0] += 1
                    for role in s.roles { byRole[role, default: 0] += 1 }
                    byMonth[monthOf(r.date) ?? "undated", default: 0] += 1
                } else if s.reason != r.reason || r.passed {
                    reasons.append("signature by \(s.keyID) is \(s.status.rawValue)" + (s.reason.map { ": \($0)" } ?? ""))
                }
            }
            if !r.passed {
                reasons.insert("fails" + (r.outcome == .valid ? "" : " (\(r.outcome.rawValue))") + (r.reason.map { ": \($0)" } ?? ""), at: 0)
            }
            if r.outcome == .unsigned, r.passed { reasons.append("unsigned") }
            if r.secured == "v1", r.passed { reasons.append("legacy v1 secured blob") }
            if !reasons.isEmpty { attention.append((r.path, r.pathIsEscaped, reasons)) }
        }
        let failing = reports.filter { !$0.passed }.count

        if let html {
            let tally = AuditTally(
                records: reports.count, failing: failing, outcomes: outcomes, secured: secured, bySigner: bySigner,
                byKey: byKey.sorted { $0.key < $1.key }.map { .init(keyID: $0.key, signer: Self.signerLabel($0.value.signer, trusted: $0.value.trusted),
                                                                    roles: $0.value.roles, count: $0.value.count) },
                // Quoted as the text report quotes it: a name that is not UTF-8 and a file named
                // with its escape differ, as two names with a `"` or `\` do.
                byRole: byRole, byMonth: byMonth, attention: attention.map { (Terminal.quoted($0.path, lastEscaped: $0.escaped), $0.reasons) })
            let page = AuditHTML.render(tally, generated: RFC3339.format(now()))
            try FileSystem.writeAtomically(html, Array(page.utf8), mode: 0o644, overwrite: force)
        }

        if json {
            func counts(_ d: [String: Int]) -> FieldValue { .object(d.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) }) }
            func every(_ names: [String], _ d: [String: Int]) -> FieldValue { .object(names.map { ($0, JSONOutput.count(d[$0] ?? 0)) }) }
            let object = JSONOutput.document([
                ("records", JSONOutput.count(reports.count)), ("passed", JSONOutput.count(reports.count - failing)),
                ("failed", JSONOutput.count(failing)), ("unsigned", JSONOutput.count(outcomes["unsigned"] ?? 0)),
                ("outcomes", every(RecordOutcome.allCases.map(\.rawValue), outcomes)),
                ("secured", every(["none", "v1", "v2", "v3", "malformed"], secured)),
                ("bySigner", counts(bySigner)),
                ("byKeyId", .object(byKey.sorted { $0.key < $1.key }.map { key, v in
                    (key, .object([("signer", v.signer.map(FieldValue.string) ?? .null), ("roles", .array(v.roles.map(FieldValue.string))),
                                   ("records", .number(Double(v.count)))]))
                })),
                ("byRole", counts(byRole)),
                ("attention", .array(attention.map {
                    .object([("path", .string($0.path)), ("pathEscaped", .bool($0.escaped)), ("reasons", .array($0.reasons.map(FieldValue.string)))])
                })),
            ])
            try Terminal.writeStdout(object.jsonLine + "\n")
            return
        }
        var out = "records: \(reports.count) (\(reports.count - failing) passed, \(failing) failed, \(outcomes["unsigned"] ?? 0) unsigned)\n"
        out += "outcomes: " + RecordOutcome.allCases.compactMap { o in outcomes[o.rawValue].map { "\(o.rawValue) \($0)" } }.joined(separator: ", ") + "\n"
        out += "secured: " + ["none", "v1", "v2", "v3", "malformed"].map { "\($0) \(secured[$0] ?? 0)" }.joined(separator: ", ")
        out += (secured["v1"] ?? 0) > 0 ? "  (\(secured["v1"]!) still legacy v1: see 'avault migrate')\n" : "\n"
        out += "\nvalid signatures by signer:\n"
        for (signer, n) in bySigner.sorted(by: { $0.key < $1.key }) { out += "  \(Terminal.shown(signer)): \(n)\n" }
        if bySigner.isEmpty { out += "  (none)\n" }
        out += "\nsignatures by key id (valid or not):\n"
        for (key, v) in byKey.sorted(by: { $0.key < $1.key }) {
            let roles = v.roles.isEmpty ? "" : " [\(v.roles.joined(separator: ", "))]"
            out += "  \(key)  \(Terminal.shown(Self.signerLabel(v.signer, trusted: v.trusted) + roles)): \(v.count)\n"
        }
        if byKey.isEmpty { out += "  (none)\n" }
        out += "\nvalid signatures by role:\n"
        for (role, n) in byRole.sorted(by: { $0.key < $1.key }) { out += "  \(Terminal.shown(role)): \(n)\n" }
        if byRole.isEmpty { out += "  (none)\n" }
        out += "\nneeds attention: \(attention.count)\n"
        for a in attention { out += "  \(Terminal.quoted(a.path, lastEscaped: a.escaped)): \(Terminal.shown(a.reasons.joined(separator: "; ")))\n" }
        try Terminal.writeStdout(out)
    }
}
