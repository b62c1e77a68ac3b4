import VaultCrypto
import VaultFormat

extension Vault {
    /// Marks `id` removed (a tombstone); its versions and history are kept.
    public func remove(_ id: String, now: Int64) throws(AvaultError) {
        try storage.withLock { () throws(AvaultError) in
            var objects = try readIndex()
            guard let i = objects.firstIndex(where: { Self.sameID($0.id, id) }) else { throw .refused("no object '\(id)' in the vault", hint: nil) }
            guard objects[i].deleted == nil else { throw .refused("'\(id)' is already removed", hint: nil) }
            objects[i].deleted = RFC3339.format(now)
            try log([("op", .string("rm")), ("object", .string(objects[i].name))])
            try writeIndex(objects)
        }
    }

    /// Deletes every version of `id` and its index entry. The log keeps the record of it.
    public func purge(_ id: String) throws(AvaultError) {
        try storage.withLock { () throws(AvaultError) in
            var objects = try readIndex()
            guard let i = objects.firstIndex(where: { Self.sameID($0.id, id) }) else { throw .refused("no object '\(id)' in the vault", hint: nil) }
            let object = objects.remove(at: i)
            try log([("op", .string("purge")), ("object", .string(object.name)), ("versions", .number(Double(object.versions.count)))])
            // The index first: an envelope no index entry names is a leftover, never a hole.
            try writeIndex(objects)
            for v in object.versions { try storage.removeEnvelope(VaultFiles.envelopeFileName(object: object.name, version: v.number)) }
            try storage.syncEnvelopes()
        }
    }

    /// Re-encrypts every version, the naming key and the index under the newest version of the
    /// vault's key, streaming chunk by chunk: no plaintext touches the disk. Returns how many
    /// envelopes were rewritten.
    public func rewrap() throws(AvaultError) -> Int {
        try storage.withLock { () throws(AvaultError) -> Int in
            var objects = try readIndex()
            let (kid, key) = try currentKey()
            var rewritten = 0
            var fromKids = Set<String>()
            for o in objects.indices {
                for v in objects[o].versions.indices where objects[o].versions[v].kid != kid {
                    let version = objects[o].versions[v]
                    fromKids.insert(version.kid)
                    let name = objects[o].name
                    let file = VaultFiles.envelopeFileName(object: name, version: version.number)
                    let sink = try storage.newEnvelope(file)
                    do throws(AvaultError) {
                        guard let encryptor = try? SecretStream.Encryptor(key: key) else {
                            throw AvaultError.crypto(.libraryFailure("secretstream"))
                        }
                        let ad = config.envelopeAssociatedData(object: name, version: version.number, kid: KeyID(hex: kid)!)
                        try sink.write(VaultFiles.envelopeMagic + KeyID(hex: kid)!.bytes + encryptor.header)
                        // Decrypt a chunk, re-encrypt it, with one chunk of look-ahead for the final tag.
                        var pending: [UInt8]?
                        try readEnvelope(object: name, version: version.number, expectedKid: version.kid) { (plain: [UInt8]) throws(AvaultError) in
                            if let previous = pending {
                                try sink.write(previous.withUnsafeBytes { encryptor.push($0, associatedData: ad, final: false) })
                            }
                            pending = plain
                        }
                        try sink.write((pending ?? []).withUnsafeBytes { encryptor.push($0, associatedData: ad, final: true) })
                        try sink.commit(syncDirectory: false)
                    } catch {
                        sink.abandon()
                        throw error
                    }
                    objects[o].versions[v].kid = kid
                    rewritten += 1
                }
            }
            try storage.syncEnvelopes()
            // The naming key, under the new key version too.
            var namingPlain = try Self.unsealNamingKey(self)
            defer { wipe(&namingPlain) }
            var newConfig = config
            let nonce = SecureRandom.bytes(count: 24)
            do {
                newConfig.namingKey = VaultFiles.Sealed(kid: KeyID(hex: kid)!, nonce: nonce,
                    ciphertext: try XChaCha20Poly1305.seal(namingPlain, key: key, nonce: nonce, associatedData: config.namingKeyAssociatedData(kid: KeyID(hex: kid)!)))
            } catch { throw .crypto(error as? CryptoError ?? .libraryFailure("seal")) }
            try log([("op", .string("rewrap")), ("envelopes", .number(Double(rewritten))),
                     ("from", .array(fromKids.sorted().map(FieldValue.string))), ("kid", .string(kid))])
            try storage.replace("config", Array(newConfig.text.utf8))
            try replaceConfig(newConfig)
            try writeIndex(objects)
            return rewritten
        }
    }

    private static func unsealNamingKey(_ vault: Vault) throws(AvaultError) -> [UInt8] {
        let sealed = vault.config.namingKey
        do {
            return try XChaCha20Poly1305.open(sealed.ciphertext, key: try vault.key(kid: sealed.kid.hex), nonce: sealed.nonce,
                                              associatedData: vault.config.namingKeyAssociatedData(kid: sealed.kid))
        } catch let error as AvaultError { throw error } catch {
            throw .tampered("the vault's naming key does not authenticate: the config was altered", hint: "run 'avault vault verify'")
        }
    }

    /// Key ids that still protect something, read from the envelope headers, the naming key
    /// and the index, without decrypting anything: kid → files.
    public func keysInUse() throws(AvaultError) -> [String: [String]] {
        var use: [String: [String]] = [:]
        for file in try storage.envelopeFiles().envelopes {
            use[envelopeKid(file) ?? "unreadable", default: []].append("objects/" + file)
        }
        use[config.namingKey.kid.hex, default: []].append("config")
        if let bytes = try storage.read("index"), let sealed = try? VaultFiles.parseIndex(String(decoding: bytes, as: UTF8.self)) {
            use[sealed.kid.hex, default: []].append("index")
        }
        return use
    }

    /// What `vault verify` found.
    public struct Check: Sendable {
        public var objects = 0
        public var versions = 0
        public var missing: [String] = []
        public var corrupt: [String] = []
        public var unexpected: [String] = []
        public var leftovers: [String] = []
        /// Intact-looking files that cannot be checked: their key version is retired or missing.
        public var unreadable: [String] = []
        public var ok: Bool { missing.isEmpty && corrupt.isEmpty && unexpected.isEmpty && leftovers.isEmpty && unreadable.isEmpty }
    }

    /// Authenticates the naming key, the index and every version of every object, and compares
    /// the files with the index.
    public func verify() throws(AvaultError) -> Check {
        var check = Check()
        do {
            _ = try Self.unsealNamingKey(self)
        } catch .tampered {
            check.corrupt.append("config")
        } catch {
            check.unreadable.append("config (" + error.message + ")")
        }
        let objects: [VaultFiles.Object]
        do { objects = try readIndex() } catch .tampered {
            check.corrupt.append("index")
            return check
        }
        let (files, leftovers) = try storage.envelopeFiles()
        var expected = Set<String>()
        check.leftovers = leftovers.map { "objects/" + $0 }
        for o in objects {
            check.objects += 1
            if let name = try? objectName(o.id), name != o.name { check.corrupt.append("index (object \(o.name) does not match its ID)") }
            for v in o.versions {
                check.versions += 1
                let file = VaultFiles.envelopeFileName(object: o.name, version: v.number)
                expected.insert(file)
                guard files.contains(file) else { check.missing.append("objects/" + file); continue }
                do {
                    try readEnvelope(object: o.name, version: v.number, expectedKid: v.kid) { (_: [UInt8]) throws(AvaultError) in }
                } catch .tampered {
                    check.corrupt.append("objects/" + file)
                } catch {
                    check.unreadable.append("objects/" + file + " (" + error.message + ")")
                }
            }
        }
        check.unexpected = files.filter { !expected.contains($0) }.map { "objects/" + $0 }
        return check
    }

    /// Moves every corrupt, unexpected or leftover file into `quarantine/` (never deletes).
    public func fsck() throws(AvaultError) -> (check: Check, moved: [String]) {
        try storage.withLock { () throws(AvaultError) -> (check: Check, moved: [String]) in
            let check = try verify()
            var moved: [String] = []
            // Only files under objects/ move; config and index are reported, never touched.
            for file in check.corrupt + check.unexpected + check.leftovers where file.hasPrefix("objects/") {
                moved.append(try storage.quarantine(String(file.dropFirst("objects/".count))))
            }
            if !moved.isEmpty { try log([("op", .string("fsck")), ("quarantined", .number(Double(moved.count)))]) }
            return (check, moved)
        }
    }
}
