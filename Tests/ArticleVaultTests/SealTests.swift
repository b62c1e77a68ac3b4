import Foundation
import Testing
import VaultCrypto
import VaultFormat
import ArticleVault

/// Sealing edits the record at byte ranges from the parse that read it, and reads the result
/// back before replacing the file: it seals the right field or refuses, never another one.
@Suite struct SealCannotLeak {
    static let record = """
        ---
        title: "Quarterly results"
        webUrl: "https://example.org/q"
        # the desk's note
        sourceName: "Deep Throat"
        quality: 41
        ---
        The body.

        """

    /// A keyring with an unprotected content key (no passphrase needed).
    static func keyring(in dir: URL) throws -> Keyring {
        let ring = try Keyring(directory: dir.appendingPathComponent("ring").path,
                               passphrase: PassphraseSource(file: nil, environmentVariable: "AVAULT_TEST_UNSET", label: "test"))
        let key = SecretBytes.random(count: 32)
        try ring.update { (r: Keyring) throws(AvaultError) in
            try r.add(name: "content", algorithm: .xchacha20poly1305, secret: key, id: .content(SecuredField.keyID(for: key)), protected: false, now: 0)
        }
        return ring
    }

    static let breaks: [(String, String)] = [("U+2028", "\u{2028}"), ("U+2029", "\u{2029}"), ("U+0085", "\u{85}"), ("lone CR", "\r")]

    /// Each of the four line breaks libyaml knows beside LF, at every position of the record.
    @Test(arguments: breaks.map(\.0))
    func everyPositionOfEveryLineBreak(_ name: String) throws {
        let mark = Self.breaks.first { $0.0 == name }!.1
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ring = try Self.keyring(in: dir)
        let scalars = Array(Self.record.unicodeScalars)
        var sealed = 0, refused = 0
        for position in 1..<scalars.count {
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars[..<position])
            text.append(contentsOf: mark.unicodeScalars)
            text.append(contentsOf: scalars[position...])
            let original = String(text)
            let path = dir.appendingPathComponent("r\(position).md").path
            try original.write(toFile: path, atomically: false, encoding: .utf8)
            do {
                try Sealing.seal(path: path, keyring: ring, keyName: "content", fields: ["sourceName"], signer: nil).commit()
            } catch {
                // Refused: the file is untouched.
                #expect(try String(contentsOfFile: path, encoding: .utf8) == original, "\(name) at \(position)")
                refused += 1
                continue
            }
            sealed += 1
            let after = try String(contentsOfFile: path, encoding: .utf8)
            #expect(!after.contains("Deep Throat"), "\(name) at \(position): the sealed field is still in clear")
            let doc = try RecordDocument(parsing: after)
            #expect(doc.fields["sourceName"] == nil)
            #expect(doc.fields["webUrl"] == .string("https://example.org/q"), "\(name) at \(position): the context changed")
            #expect(doc.fields["title"] == .string("Quarterly results"))
            #expect(doc.fields["quality"] == .number(41))
            try Sealing.unseal(path: path, keyring: ring, keyName: nil, legacy: LegacyPolicy(trust: nil, allowUnauthenticated: false), signer: nil).commit()
            #expect(try String(contentsOfFile: path, encoding: .utf8) == original, "\(name) at \(position): unseal did not restore the bytes")
        }
        // Breaks in the front matter are refused (YAML readers disagree on them); in the body they are text.
        #expect(sealed > 0 && refused > 0)
        #expect(refused >= Self.record.unicodeScalars.count - "The body.\n".count - 8, "\(refused) refused")
    }

    /// Written as escapes inside double quotes, the same characters mean one thing to every reader.
    @Test func escapedLineBreaksSealAndUnsealExactly() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ring = try Self.keyring(in: dir)
        let original = Self.record.replacingOccurrences(of: "Quarterly results", with: "Hello\\L# and \\P the \\N CEO \\r resigns")
        let path = dir.appendingPathComponent("r.md").path
        try original.write(toFile: path, atomically: false, encoding: .utf8)
        try Sealing.seal(path: path, keyring: ring, keyName: "content", fields: ["sourceName", "title"], signer: nil).commit()
        let doc = try RecordDocument(parsing: try String(contentsOfFile: path, encoding: .utf8))
        #expect(doc.fields["title"] == nil && doc.fields["sourceName"] == nil)
        #expect(doc.fields["webUrl"] == .string("https://example.org/q"))
        try Sealing.unseal(path: path, keyring: ring, keyName: nil, legacy: LegacyPolicy(trust: nil, allowUnauthenticated: false), signer: nil).commit()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == original)
    }

    /// A rewrite is written only over the file it was made from: an edit made meanwhile (by
    /// an editor, or a rename over the record) is left as it is, not overwritten.
    @Test func aRewriteIsNotWrittenOverARecordChangedSinceItWasRead() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ring = try Self.keyring(in: dir)
        let path = dir.appendingPathComponent("r.md").path
        try Self.record.write(toFile: path, atomically: false, encoding: .utf8)
        let edited = Self.record.replacingOccurrences(of: "Quarterly results", with: "Quarterly results, edited")
        for replace in [false, true] {
            let rewrite = try Sealing.seal(path: path, keyring: ring, keyName: "content", fields: [], signer: nil)
            if replace { try edited.write(toFile: path, atomically: true, encoding: .utf8) } else {
                let handle = try #require(FileHandle(forWritingAtPath: path))
                try handle.write(contentsOf: Data(edited.utf8))
                try handle.close()
            }
            #expect { try rewrite.commit() } throws: { error in
                if case .recordChangedMeanwhile(path) = error as? AvaultError { return true }
                return false
            }
            #expect(try String(contentsOfFile: path, encoding: .utf8) == edited, "the edit was overwritten")
            try Self.record.write(toFile: path, atomically: false, encoding: .utf8)
        }
        // Unchanged, it is written.
        try Sealing.seal(path: path, keyring: ring, keyName: "content", fields: [], signer: nil).commit()
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("secured: "))
    }

    /// Fences as Jekyll reads them (trailing whitespace, `...`) are kept.
    @Test(arguments: ["--- \t\n", "---\r\n"])
    func unusualFencesAreKept(_ opening: String) throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ring = try Self.keyring(in: dir)
        var original = Self.record.replacingOccurrences(of: "41\n---\n", with: "41\n...  \n")
        original = opening + original.dropFirst(4)
        if opening.hasSuffix("\r\n") { original = original.replacingOccurrences(of: "\n", with: "\r\n").replacingOccurrences(of: "\r\r\n", with: "\r\n") }
        let path = dir.appendingPathComponent("r.md").path
        try original.write(toFile: path, atomically: false, encoding: .utf8)
        try Sealing.seal(path: path, keyring: ring, keyName: "content", fields: ["sourceName"], signer: nil).commit()
        let sealed = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        #expect(sealed.utf8.starts(with: opening.utf8))
        #expect(!sealed.contains("Deep Throat"))
        try Sealing.unseal(path: path, keyring: ring, keyName: nil, legacy: LegacyPolicy(trust: nil, allowUnauthenticated: false), signer: nil).commit()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(original.utf8))
    }

    /// A sealed payload crafted to smuggle a second field in with the one it restores is caught
    /// when the result is read back: nothing is written.
    @Test func anUnsealThatWouldAddAnUnexpectedFieldWritesNothing() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ring = try Self.keyring(in: dir)
        let key = try ring.secret(of: try ring.current("content"))
        for (yaml, why) in [("sourceName: \"x\"\nextra: 1\n", "extra"), ("other: 1\n", "unreadable")] {
            let payload = FieldValue.object([
                ("format", .string(Sealing.payloadFormat)), ("body", .string("")),
                ("fields", .array([.object([("name", .string("sourceName")), ("after", .string("title")), ("yaml", .string(yaml))])])),
            ]).canonicalJSON
            let blob = try SecuredField.encryptV2(payload, key: key, context: "https://example.org/q")
            let text = "---\ntitle: \"T\"\nwebUrl: \"https://example.org/q\"\nsecured: \"\(blob.text)\"\n---\n"
            let path = dir.appendingPathComponent("crafted.md").path
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            #expect {
                try Sealing.unseal(path: path, keyring: ring, keyName: nil, legacy: LegacyPolicy(trust: nil, allowUnauthenticated: false), signer: nil).commit()
            } throws: { error in
                (error as? AvaultError)?.message.contains(why) == true
            }
            #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
        }
    }
}

/// A rewrite gives the new file the mode of the file it read: the mode is taken from the
/// descriptor the record was read through, never from a second look at the path.
@Suite struct SealKeepsTheModeRead {
    @Test func theModeIsThatOfTheFileRead() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("private.md").path, decoy = dir.appendingPathComponent("public.md").path
        try "---\ntitle: private\n---\nbody\n".write(toFile: path, atomically: false, encoding: .utf8)
        try "---\ntitle: public\n---\n".write(toFile: decoy, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: decoy)
        let file = try RecordFile(path: path)
        // The path now names a link to a file of mode 644; what was read was of mode 600.
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: decoy)
        #expect(file.mode == 0o600)
        #expect(file.text.contains("private"))
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o7777 == 0o644)
        // Not a regular file: refused without being read.
        let fifo = dir.appendingPathComponent("fifo.md").path
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect { _ = try RecordFile(path: fifo) } throws: { error in
            (error as? AvaultError)?.message.contains("not a regular file") == true
        }
    }
}
