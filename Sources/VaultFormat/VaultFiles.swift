import VaultCrypto

/// The vault's on-disk formats (see `docs/formats.md` section 8). Pure parse and serialise.
public enum VaultFiles {
    /// First line of the config file.
    public static let configMagic = "avault-vault v1"
    /// First line of the index file.
    public static let indexMagic = "avault-vault-index v1"
    /// The bytes every envelope starts with.
    public static let envelopeMagic = Array("avault-envelope v1\n".utf8)
    /// Plaintext bytes per envelope chunk.
    public static let chunkSize = 1 << 16

    /// A sealed value: the key id that sealed it, a nonce and `ciphertext ‖ tag`.
    public struct Sealed: Equatable, Sendable {
        public var kid: KeyID
        public var nonce: [UInt8]
        public var ciphertext: [UInt8]
        public init(kid: KeyID, nonce: [UInt8], ciphertext: [UInt8]) { self.kid = kid; self.nonce = nonce; self.ciphertext = ciphertext }

        var text: String { "\(kid.hex) \(Base64.encode(nonce));\(Base64.encode(ciphertext))" }

        init(parsing text: Substring, what: String) throws(FormatError) {
            let (kidText, rest) = TextLines.splitAtFirstSpace(text)
            guard let kid = KeyID(hex: kidText), let rest else { throw .invalidVault("\(what): expected '<kid> <nonce>;<ciphertext>'") }
            let parts = rest.split(separator: ";", omittingEmptySubsequences: false)
            guard parts.count == 2, let nonce = try? Base64.decode(parts[0]), nonce.count == 24,
                  let ct = try? Base64.decode(parts[1]), ct.count >= 16 else {
                throw .invalidVault("\(what): expected '<kid> <nonce>;<ciphertext>'")
            }
            self.init(kid: kid, nonce: nonce, ciphertext: ct)
        }
    }

    /// `config`: the vault's id, the content key's name, and its naming key (sealed).
    public struct Config: Equatable, Sendable {
        /// 16 random bytes, in hex.
        public var vaultID: String
        /// The keyring name of the content key that protects the vault.
        public var keyName: String
        /// The key that turns object IDs into file names, sealed under the content key.
        public var namingKey: Sealed

        public init(vaultID: String, keyName: String, namingKey: Sealed) {
            self.vaultID = vaultID; self.keyName = keyName; self.namingKey = namingKey
        }

        public var text: String {
            "\(configMagic)\nid: \(vaultID)\nkey: \(keyName)\nnaming-key: \(namingKey.text)\n"
        }

        public init(parsing text: String) throws(FormatError) {
            let lines = TextLines.split(text, stripCR: false)
            guard lines.count == 5, lines[4].isEmpty, lines[0].utf8.elementsEqual(configMagic.utf8),
                  let id = TextLines.value(lines[1], after: "id: "), id.utf8.count == 32, (try? Hex.decode(id)) != nil,
                  let key = TextLines.value(lines[2], after: "key: "), KeyringFile.isValidName(String(key)),
                  let naming = TextLines.value(lines[3], after: "naming-key: ") else {
                throw .invalidVault("config: expected '\(configMagic)', id, key and naming-key lines")
            }
            self.init(vaultID: String(id), keyName: String(key), namingKey: try Sealed(parsing: naming, what: "config naming-key"))
        }

        /// Associated data of the sealed naming key.
        public func namingKeyAssociatedData(kid: KeyID) -> [UInt8] {
            Self.namingKeyAssociatedData(vaultID: vaultID, kid: kid)
        }

        /// Associated data of the sealed naming key of vault `vaultID`.
        public static func namingKeyAssociatedData(vaultID: String, kid: KeyID) -> [UInt8] {
            Array("avault/vault/v1;naming;\(vaultID);\(kid.hex)".utf8)
        }

        /// Associated data of the sealed index.
        public func indexAssociatedData(kid: KeyID) -> [UInt8] {
            Array("avault/vault/v1;index;\(vaultID);\(kid.hex)".utf8)
        }

        /// Associated data of every chunk of an envelope: binds the vault, the object and the version.
        public func envelopeAssociatedData(object: String, version: Int, kid: KeyID) -> [UInt8] {
            Array("avault/vault/v1;envelope;\(vaultID);\(object);\(version);\(kid.hex)".utf8)
        }
    }

    /// The index file: `avault-vault-index v1` then the sealed index on one line.
    public static func indexText(_ sealed: Sealed) -> String { "\(indexMagic)\n\(sealed.text)\n" }

    public static func parseIndex(_ text: String) throws(FormatError) -> Sealed {
        let lines = TextLines.split(text, stripCR: false)
        guard lines.count == 3, lines[2].isEmpty, lines[0].utf8.elementsEqual(indexMagic.utf8) else {
            throw .invalidVault("index: expected '\(indexMagic)' and one sealed line")
        }
        return try Sealed(parsing: lines[1], what: "index")
    }

    /// One object in the (decrypted) index.
    public struct Object: Equatable, Sendable {
        public var id: String
        /// The file-name stem: 32 hex digits of the keyed hash of `id`.
        public var name: String
        public var deleted: String?
        public var versions: [Version]
        public init(id: String, name: String, deleted: String? = nil, versions: [Version] = []) {
            self.id = id; self.name = name; self.deleted = deleted; self.versions = versions
        }
    }

    /// One stored version.
    public struct Version: Equatable, Sendable {
        public var number: Int
        public var size: Int
        public var created: String
        public var contentType: String?
        /// The content key version that encrypts it.
        public var kid: String
        public init(number: Int, size: Int, created: String, contentType: String?, kid: String) {
            self.number = number; self.size = size; self.created = created; self.contentType = contentType; self.kid = kid
        }
    }

    /// The decrypted index as canonical JSON.
    public static func indexJSON(_ objects: [Object]) -> [UInt8] {
        FieldValue.object([("objects", .array(objects.map { o in
            .object([
                ("id", .string(o.id)), ("name", .string(o.name)), ("deleted", o.deleted.map(FieldValue.string) ?? .null),
                ("versions", .array(o.versions.map { v in
                    .object([("n", .number(Double(v.number))), ("size", .number(Double(v.size))), ("created", .string(v.created)),
                             ("contentType", v.contentType.map(FieldValue.string) ?? .null), ("kid", .string(v.kid))])
                })),
            ])
        }))]).canonicalJSON
    }

    public static func parseIndexJSON(_ bytes: [UInt8]) throws(FormatError) -> [Object] {
        guard case .array(let items)? = try JSONDocument.parse(bytes)["objects"] else { throw .invalidVault("index: no objects list") }
        var objects: [Object] = []
        for item in items {
            guard case .string(let id)? = item["id"], case .string(let name)? = item["name"], case .array(let vs)? = item["versions"] else {
                throw .invalidVault("index: malformed object")
            }
            var versions: [Version] = []
            for v in vs {
                guard case .number(let n)? = v["n"], case .number(let size)? = v["size"], case .string(let created)? = v["created"],
                      case .string(let kid)? = v["kid"] else { throw .invalidVault("index: malformed version") }
                versions.append(Version(number: Int(n), size: Int(size), created: created, contentType: v["contentType"]?.stringValue, kid: kid))
            }
            objects.append(Object(id: id, name: name, deleted: item["deleted"]?.stringValue, versions: versions))
        }
        return objects
    }

    /// An envelope's file name: `<name>-<version>`.
    public static func envelopeFileName(object: String, version: Int) -> String { "\(object)-\(version)" }

    /// Parses an envelope file name into (object name, version); nil if it is not one.
    public static func parseEnvelopeFileName(_ file: String) -> (String, Int)? {
        let parts = file.split(separator: "-")
        guard parts.count == 2, parts[0].utf8.count == 32, parts[0].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
              let v = Int(parts[1]), v >= 1, String(v) == parts[1] else { return nil }
        return (String(parts[0]), v)
    }
}
