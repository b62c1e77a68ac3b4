import Testing
import VaultCrypto
import VaultFormat

/// `.avault-recipients` (formats.md §1.7) and the v3 blob's form (§1.6).
@Suite struct RecipientRulesTests {
    static let a = "age1hpf44sa0nlz6d4mkgmg0vjkzk3mxcpw567m07nyuhdzr048n2p4qns4anx"
    static let b = "age1j5c80jeevavtvtcs9h76zg7ncm8qga82le4nqg2z052rt9lz7dpqm596ph"
    static let c = "age1w4jqhfplwjr5z5saq8usmf9x7d5z7rrfgn69kms0ea7qw3hkvpus4jkv07"

    static func parse(_ text: String) throws(FormatError) -> RecipientRules { try RecipientRules(parsing: Array(text.utf8)) }
    static func key(_ r: String) throws -> [UInt8] { try AgeKeys.parseRecipient(r) }

    @Test func oneListForEveryPathWithCommentsBlanksCRAndRepeats() throws {
        let rules = try Self.parse("# the desk\n\n  \(Self.a)  \r\n\t# indented comment\n\(Self.b)\n\(Self.a)\n")
        #expect(rules.sections.count == 1 && rules.sections[0].glob == nil)
        #expect(rules.sections[0].recipients == [try Self.key(Self.a), try Self.key(Self.b)])
        #expect(rules.section(for: "any/where/x.md")?.recipients.count == 2)
        // No final newline is fine too.
        #expect(try Self.parse(Self.c).sections[0].recipients == [try Self.key(Self.c)])
    }

    @Test func sectionsAreTriedInOrderAndTheFirstMatchWins() throws {
        let rules = try Self.parse("""
            # investigations: two of us
            path-glob: investigations/**
            \(Self.a)
            \(Self.b)
            path-glob:\tdrafts/*.md
            \(Self.c)
            path-glob: **
            \(Self.a)
            \(Self.b)
            \(Self.c)
            """)
        #expect(rules.sections.map(\.glob) == ["investigations/**", "drafts/*.md", "**"])
        #expect(rules.sections.map(\.line) == [2, 5, 7])
        #expect(rules.section(for: "investigations/2026/leak.md")?.glob == "investigations/**")
        #expect(rules.section(for: "drafts/a.md")?.glob == "drafts/*.md")
        #expect(rules.section(for: "drafts/deep/a.md")?.glob == "**")
        #expect(rules.section(for: "top.md")?.recipients.count == 3)
        // Without a catch-all, a path no glob matches has no section.
        let narrow = try Self.parse("path-glob: drafts/*\n\(Self.a)\n")
        #expect(narrow.section(for: "other/a.md") == nil)
    }

    @Test func globs() {
        let cases: [(String, String, Bool)] = [
            ("**", "a.md", true), ("**", "a/b/c.md", true),
            ("*.md", "a.md", true), ("*.md", "d/a.md", false), ("*.md", ".hidden.md", true),
            ("d/*", "d/a.md", true), ("d/*", "d/e/a.md", false),
            ("d/**", "d/a.md", true), ("d/**", "d/e/f/a.md", true), ("d/**", "e/a.md", false),
            ("**/a.md", "a.md", true), ("**/a.md", "x/y/a.md", true), ("**/a.md", "x/ya.md", false),
            ("d/**/x/*.md", "d/x/1.md", true), ("d/**/x/*.md", "d/p/q/x/1.md", true), ("d/**/x/*.md", "d/p/1.md", false),
            ("a?c", "abc", true), ("a?c", "a/c", false), ("a?c", "ac", false),
            ("*a*b", "xaxxb", true), ("*a*b", "xaxxbc", false), ("é*", "été.md", true),
            ("draft-*.md", "draft-.md", true), ("drafts", "drafts/a.md", false),
            // By code points, as files are named: a '/' before a combining mark still cuts, `?` is
            // one code point, and names that differ only in normalisation are two names.
            ("d/**", "d/\u{301}x.md", true), ("d/*", "d/\u{301}x.md", true), ("?x.md", "\u{301}x.md", true),
            ("d/\u{301}x.md", "d/\u{301}x.md", true), ("e\u{301}.md", "\u{E9}.md", false), ("?.md", "e\u{301}.md", false),
        ]
        for (glob, path, expected) in cases {
            #expect(RecipientRules.glob(glob, matches: path) == expected, "\(glob) ~ \(path)")
        }
    }

    @Test func malformedFilesNameTheLine() {
        let cases: [(String, String, Int?)] = [
            ("", "no recipients", nil),
            ("# only a comment\n", "no recipients", nil),
            ("\(Self.a)\npath-glob: d/*\n\(Self.b)\n", "recipients before the first", 1),
            ("path-glob: d/*\npath-glob: **\n\(Self.a)\n", "the section has no recipients", 1),
            ("path-glob: **\n\(Self.a)\npath-glob: d/*\n", "the section has no recipients", 3),
            ("path-glob:**\n\(Self.a)\n", "expected 'path-glob: GLOB'", 1),
            ("path-glob: /abs/*\n\(Self.a)\n", "relative", 1),
            ("path-glob: d/../x\n\(Self.a)\n", "'..' segment", 1),
            ("path-glob: d//x\n\(Self.a)\n", "empty path segment", 1),
            ("path-glob: d/[ab]\n\(Self.a)\n", "reserved", 1),
            ("path-glob: a b\n\(Self.a)\n", "whitespace", 1),
            ("\(Self.a) # alice\n", "not an age X25519 recipient", 1),
            ("\(Self.a.uppercased())\n", "not an age X25519 recipient", 1),
            ("\n\nssh-ed25519 AAAA\n", "not an age X25519 recipient", 3),
        ]
        for (text, why, line) in cases {
            do {
                _ = try Self.parse(text)
                Issue.record("accepted: \(text)")
            } catch {
                guard case let .invalidRecipientsFile(message, got) = error else { Issue.record("\(error)"); continue }
                #expect(message.contains(why) && got == line, "\(text): \(message) at \(String(describing: got))")
            }
        }
        #expect(throws: FormatError.invalidRecipientsFile("not UTF-8", line: nil)) { try RecipientRules(parsing: [0xFF, 0x0A]) }
    }

    // MARK: v3 blobs

    /// An age file's bytes with `stanzas` and `payload` after the header (the code is not checked by the format).
    static func ageFile(_ stanzas: [AgeStanza], payload: Int = 32) -> [UInt8] {
        AgeHeader(stanzas: stanzas, mac: [UInt8](repeating: 7, count: 32)).serialized() + [UInt8](repeating: 1, count: payload)
    }

    static let x25519 = AgeStanza(type: "X25519", arguments: [Base64.encodeUnpadded([UInt8](repeating: 9, count: 32))], body: [UInt8](repeating: 3, count: 32))
    static let context = SecuredBlob.v3ContextStanza(digest: [UInt8](repeating: 5, count: 32))

    @Test func v3BlobsParseAndSerialiseBack() throws {
        let age = Self.ageFile([Self.x25519, Self.x25519, Self.context])
        let text = "v3;" + Base64.encode(age)
        let blob = try SecuredBlob(parsing: text)
        #expect(blob.text == text && blob.formatName == "v3" && blob.keyID == nil)
        #expect(blob.stanzaTypes == ["X25519", "X25519", "avault-context"])
        #expect(blob.v3ContextDigest == [UInt8](repeating: 5, count: 32))
        #expect(try SecuredBlob.form(of: text) == SecuredBlob.Form(formatName: "v3", keyID: nil))
        #expect(SecuredBlob.claimedFormat(of: "v3;???") == "v3")
    }

    @Test func malformedV3Blobs() {
        let badContext = AgeStanza(type: "avault-context", arguments: [Base64.encodeUnpadded([UInt8](repeating: 5, count: 31))], body: [])
        let contextWithBody = AgeStanza(type: "avault-context", arguments: Self.context.arguments, body: [1])
        let scrypt = AgeStanza(type: "scrypt", arguments: ["AAAAAAAAAAAAAAAAAAAAAA", "18"], body: [UInt8](repeating: 0, count: 32))
        let cases: [(String, String)] = [
            ("v3", "v3 blob has 1 fields"),
            ("v3;a;b", "v3 blob has 3 fields"),
            ("v3;not base64!", "not strict base64"),
            ("v3;" + Base64.encode(Array("hello".utf8)), "malformed age header"),
            ("v3;" + Base64.encode(Self.ageFile([Self.x25519])), "0 context stanzas"),
            ("v3;" + Base64.encode(Self.ageFile([Self.x25519, Self.context, Self.context])), "2 context stanzas"),
            ("v3;" + Base64.encode(Self.ageFile([Self.context])), "no X25519 recipient"),
            ("v3;" + Base64.encode(Self.ageFile([Self.x25519, badContext])), "context stanza is malformed"),
            ("v3;" + Base64.encode(Self.ageFile([Self.x25519, contextWithBody])), "context stanza is malformed"),
            ("v3;" + Base64.encode(Self.ageFile([scrypt, Self.context])), "'scrypt' stanza"),
            ("v3;" + Base64.encode(Self.ageFile([Self.x25519, Self.context], payload: 31)), "ends before its payload"),
            ("v4;abcd", "unsupported format version 'v4'"),
        ]
        for (text, why) in cases {
            do {
                _ = try SecuredBlob(parsing: text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect("\(error)".contains(why), "\(text.prefix(40)): \(error)")
                #expect(throws: error) { try SecuredBlob.form(of: text) }
            }
        }
    }
}
