import ArgumentParser
import ArticleVault
import VaultFormat

struct SecuredInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Say what a blob is and whether it is well-formed (no key needed).",
        discussion: "Exit status: 0 well-formed; 1 malformed; 2 the blob could not be read.\n\nExample: avault secured inspect --record post.md"
    )

    @OptionGroup var source: BlobSource

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let text = try source.load().text
        var fields: [(key: String, value: FieldValue)]
        var problem: String?
        do {
            let blob = try SecuredField.parse(text, file: nil)
            fields = [("format", .string(blob.formatName)), ("wellFormed", .bool(true))]
            switch blob {
            case let .v1(ciphertext, iv):
                fields += [
                    ("algorithm", .string("AES-CBC-PKCS7")),
                    ("authenticated", .bool(false)),
                    ("ivBytes", .number(Double(iv.count))),
                    ("ciphertextBytes", .number(Double(ciphertext.count))),
                ]
            case let .v2(kid, nonce, sealed):
                fields += [
                    ("algorithm", .string("XChaCha20-Poly1305")),
                    ("authenticated", .bool(true)),
                    ("keyId", .string(kid.hex)),
                    ("nonceBytes", .number(Double(nonce.count))),
                    ("ciphertextBytes", .number(Double(sealed.count - SecuredBlob.v2TagSize))),
                    ("tagBytes", .number(Double(SecuredBlob.v2TagSize))),
                ]
            case let .v3(age, _):
                fields += [
                    ("algorithm", .string("age-v1")),
                    ("authenticated", .bool(true)),
                    ("recipients", .number(Double(blob.stanzaTypes.filter { $0 == "X25519" }.count))),
                    ("stanzaTypes", .array(blob.stanzaTypes.map(FieldValue.string))),
                    ("ageBytes", .number(Double(age.count))),
                ]
            }
        } catch {
            problem = error.message
            fields = [("format", .string(SecuredBlob.claimedFormat(of: text))), ("wellFormed", .bool(false)),
                      ("error", .string(error.message))]
        }

        if json {
            try JSONOutput.print(fields)
        } else {
            let width = fields.map(\.key.count).max() ?? 0
            var out = ""
            for (key, value) in fields where key != "error" {
                let shown: String
                switch value {
                case .string(let s): shown = s
                case .bool(let b): shown = b ? "yes" : "no"
                case .array(let items): shown = items.compactMap(\.stringValue).joined(separator: ", ")
                default: shown = value.jsonText
                }
                out += key + ":" + String(repeating: " ", count: width - key.count + 1) + shown + "\n"
            }
            try Terminal.writeStdout(out)
        }
        if let problem {
            Terminal.error(problem)
            throw ExitCode(Exit.no)
        }
    }
}
