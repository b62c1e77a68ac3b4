import ArgumentParser
import ArticleVault

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign records (embedded, over their canonical form) or any file (detached .minisig).",
        discussion: """
            Embedded: adds an entry to the record's `signatures` list (replacing one by the same key), \
            with minisign's signature, trusted comment and global signature over the record's canonical \
            bytes (see 'avault canonical'). Everything else in the file stays byte for byte; the new \
            signature is verified before the file is replaced atomically.

            --site DIR adds a place: field with the file's path from DIR, so that the gate ('avault verify DIR') \
            counts the signature only for a file at that place (see --require-place there).

            --detached writes FILE.minisig exactly as minisign does. --export-minisig writes a record's \
            canonical bytes and an embedded signature as FILE.canonical and FILE.canonical.minisig in DIR, \
            so that 'minisign -Vm FILE.canonical -p KEY.pub' verifies it with no avault at hand.

            \(exitCodeHelp)

            Example: avault sign --key desk-signing posts/*.md
            """
    )

    @Argument(help: ArgumentHelp("Records (or, with --detached, any files).", valueName: "file"), completion: .file()) var files: [String]
    @Option(help: ArgumentHelp("The signing key's name in the keyring.", valueName: "name"), completion: KeyCompletion.names(.signing)) var key: String?
    @OptionGroup var keyring: KeyringOptions
    @Option(name: .customLong("trusted-comment"),
            help: ArgumentHelp("Text after the timestamp (embedded: and the canonical form) in place of the file name; "
                               + "no timestamp:, canon: or file: field, and no control character but TAB.",
                               valueName: "text"))
    var trustedComment: String?
    @Option(help: ArgumentHelp("Bind each signature to the file's path from this directory, the site's top, which the gate checks (a place: field).",
                               valueName: "dir"), completion: .directory)
    var site: String?
    @Flag(help: "Write a detached FILE.minisig instead of signing inside the record.") var detached = false
    @Flag(name: .customLong("export-minisig"), help: "Export each record's canonical bytes and embedded signature for stock minisign.")
    var exportMinisig = false
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("With --export-minisig: the directory to write to.", valueName: "dir"), completion: .directory)
    var output: String?
    @Flag(help: "With --detached or --export-minisig: overwrite existing signature and canonical files.") var force = false

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one file") }
        if files.contains("-") {
            throw ValidationError(exportMinisig ? "- (standard input) cannot be exported: the files written are named after the record's"
                : detached ? "- (standard input) cannot be signed: the signature is written next to the file, and standard input has no name"
                : "- (standard input) cannot be signed: sign rewrites the record in place; save it to a file and sign that")
        }
        if exportMinisig {
            if detached { throw ValidationError("--export-minisig and --detached do not go together") }
            if site != nil { throw ValidationError("--site goes with signing, not with --export-minisig (which exports signatures made before)") }
            if output == nil { throw ValidationError("--export-minisig needs -o DIR") }
            try refuseStandardOutput(output, option: "-o", names: "the directory to export to")
        } else {
            if key == nil { throw ValidationError("give --key NAME (a signing key in the keyring)") }
            if output != nil { throw ValidationError("-o goes with --export-minisig") }
            if force, !detached { throw ValidationError("--force goes with --detached or --export-minisig (an embedded signature replaces the key's own entry)") }
        }
        let named = Set(files)
        if detached, let signature = files.first(where: { $0.hasSuffix(".minisig") && named.contains(String($0.dropLast(8))) }) {
            throw ValidationError("\(Terminal.quoted(signature)) is the signature --detached writes for \(Terminal.quoted(String(signature.dropLast(8)))), "
                                  + "named too: leave the .minisig files out of the files to sign")
        }
        if exportMinisig || detached {
            try refuseSameFileTwice(writes: outputs, reads: files)
        } else {
            try refuseSameFileTwice(writes: files)
        }
    }

    func run() throws {
        // Every file the batch reads and writes is checked before any is written.
        if exportMinisig { return try export() }
        if let trustedComment { try RecordSigner.checkCommentText(trustedComment) }
        var places: [String: String] = [:]
        if let site { for file in files { places[file] = try RecordSigner.sitePath(of: file, site: site) } }
        if detached {
            try checkNew()
        } else {
            try FileSystem.checkBatch(rewrites: files)
        }
        let ring = try keyring.open()
        let signing = try ring.signingKey(named: key!)
        let (signingKey, keyID) = (signing.key, signing.keyID)
        let time = now()
        if detached {
            // Every comment before any file is written (one may be too long for minisign).
            var comments: [String] = []
            for file in files { comments.append(try RecordSigner.detachedComment(path: file, now: time, text: trustedComment, sitePath: places[file])) }
            return try Terminal.writingBatch {
                for (file, comment) in zip(files, comments) {
                    let out = try RecordSigner.signDetached(path: file, key: signingKey, keyID: keyID, trustedComment: comment, overwrite: force)
                    try Terminal.writeStdout("signed \(Terminal.quoted(file)) -> \(Terminal.quoted(out)) (key \(keyID.printed))\n")
                }
            }
        }
        func comment(_ file: String) throws(AvaultError) -> String {
            try RecordSigner.recordComment(path: file, now: time, text: trustedComment, sitePath: places[file])
        }
        try inTwoPasses(files, verb: "signed", check: { file throws(AvaultError) in
            try RecordSigner.checkSigning(path: file, key: signingKey, keyID: keyID, trustedComment: comment(file))
        }) { file, identity in
            try RecordSigner.sign(path: file, key: signingKey, keyID: keyID, trustedComment: comment(file), readAs: identity)
            try Terminal.writeStdout("signed \(Terminal.quoted(file)) (key \(keyID.printed))\n")
        }
    }

    /// The files --detached or --export-minisig writes.
    private var outputs: [String] {
        exportMinisig ? files.flatMap { RecordSigner.exportPaths(of: $0, to: output!) } : files.map(RecordSigner.detachedSignaturePath)
    }

    /// Refuses `outputs` when one exists (unless --force) or cannot be written, and any input
    /// that is not a regular file.
    private func checkNew() throws(AvaultError) {
        for output in outputs { try FileSystem.checkOutput(output, force: force) }
        try FileSystem.checkBatch(reads: files, writes: outputs)
    }

    private func export() throws {
        let dir = output!
        try checkNew()
        var wanted: MinisignKeyID?
        if let key { wanted = try keyring.open().signingKeyID(named: key) }
        try Terminal.writingBatch {
            try RecordSigner.exportForMinisign(paths: files, keyID: wanted, to: dir, overwrite: force) { base, keyID throws(AvaultError) in
                try Terminal.writeStdout("wrote \(Terminal.quoted(base)) and \(Terminal.quoted(base + ".minisig")) (key \(keyID.printed))\n")
            }
        }
    }
}
