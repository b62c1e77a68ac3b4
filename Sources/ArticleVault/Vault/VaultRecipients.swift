#if canImport(Glibc)
import Glibc
#endif
import VaultCrypto
public import VaultFormat

/// Vaults to recipients (formats.md §8.7): the vault's data keys, wrapped in an age file to
/// each recipient, so that each editor opens the vault with their own identity.
enum VaultRecipients {
    /// BLAKE2b-256 of `avault/vault/recipients;` ‖ vault id ‖ `;` ‖ the recipients joined by spaces.
    static func digest(vaultID: String, recipients: [String]) -> [UInt8] {
        Array(BLAKE2b.hash(Array("avault/vault/recipients;\(vaultID);\(recipients.joined(separator: " "))".utf8), digestSize: 32))
    }

    /// ``digest(vaultID:recipients:)`` in hex: what a keyring records of the recipients a
    /// vault's log records at a head (formats.md 4, 8.6).
    static func recordedDigest(vaultID: String, recipients: [String]) -> String {
        Hex.encode(digest(vaultID: vaultID, recipients: recipients))
    }

    /// The stanza that binds the data-key file to the vault and its recipients list.
    static func bindingStanza(vaultID: String, recipients: [String]) -> AgeStanza {
        AgeStanza(type: VaultFiles.Config.dataKeysStanzaType,
                  arguments: [vaultID, Base64.encodeUnpadded(digest(vaultID: vaultID, recipients: recipients))], body: [])
    }

    /// The log entry of a change of recipients from `before` to `after` (`kid`: the current
    /// data key's id then).
    static func logEntry(from before: [String], to after: [String], kid: KeyID) -> [(key: String, value: FieldValue)] {
        [("op", .string("recipients")),
         ("added", .array(after.filter { !before.contains($0) }.map(FieldValue.string))),
         ("removed", .array(before.filter { !after.contains($0) }.map(FieldValue.string))),
         ("recipients", .array(after.map(FieldValue.string))),
         ("kid", .string(kid.hex))]
    }

    /// The age file that wraps `keys` (the current one first) to `recipients`.
    static func wrap(_ keys: [SecretBytes], to recipients: [String], vaultID: String) throws(AvaultError) -> [UInt8] {
        var targets: [AgeRecipient] = []
        for text in recipients {
            do throws(AgeKeys.Problem) { targets.append(.x25519(try AgeKeys.parseRecipient(text))) } catch { throw .invalidAgeRecipient(text) }
        }
        var plain: [UInt8] = []
        defer { wipe(&plain) }
        for key in keys { key.withUnsafeBytes { plain.append(contentsOf: $0) } }
        var out: [UInt8] = []
        _ = try AgeFile.encrypt(AgeBytesInput(plain), to: targets, extraStanzas: [bindingStanza(vaultID: vaultID, recipients: recipients)],
                                armor: false) { piece throws(AvaultError) in out.append(contentsOf: piece) }
        return out
    }

    /// The data keys of `config` (the current one first), opened with the first of `identities`
    /// that is a recipient, after checking that the file is bound to this vault and its list,
    /// and is wrapped to as many recipients as the list names (one X25519 stanza each).
    static func unwrap(_ config: VaultFiles.Config, identities: [SecretBytes]) throws(AvaultError) -> [(kid: KeyID, key: SecretBytes)] {
        guard let wrapped = config.dataKeys, let recipients = config.recipients else {
            throw .internalFailure("unwrap of a vault that is not to recipients")
        }
        let altered = AvaultError.tampered("the vault's data keys are not bound to this vault and its recipients: the config was altered", area: .vault)
        let parsed = try? wrapped.withUnsafeBytes { raw in Result { () throws(AgeFormatError) in try AgeHeader.parse(raw, atEnd: true) } }.get()
        guard case .header(let header, _)? = parsed else { throw altered }
        let bindings = header.stanzas.filter { $0.type == VaultFiles.Config.dataKeysStanzaType }
        guard bindings.count == 1, bindings[0] == bindingStanza(vaultID: config.vaultID, recipients: recipients) else { throw altered }
        // One X25519 stanza per recipient and nothing else, as ``wrap(_:to:vaultID:)`` writes it:
        // a recipient knows the file key, so can add a stanza for someone the list does not name
        // and a header code that matches. (Which stanza is whose cannot be told: the count can.)
        let others = header.stanzas.filter { $0.type != VaultFiles.Config.dataKeysStanzaType }
        guard others.count == recipients.count, others.allSatisfy({ $0.type == "X25519" }) else {
            throw .tampered("the vault's data keys are wrapped to \(others.count) stanza\(others.count == 1 ? "" : "s"), "
                + "but its config lists \(recipients.count) recipient\(recipients.count == 1 ? "" : "s"): the config was altered", area: .vault)
        }
        var plain: [UInt8] = []
        defer { wipe(&plain) }
        do throws(AvaultError) {
            try AgeFile.decrypt(AgeBytesInput(wrapped), armored: false, identities: identities, passphrase: nil) { piece throws(AvaultError) in
                plain.append(contentsOf: piece)
            }
        } catch {
            if case .age(.noIdentityMatched, _) = error { throw .notAVaultRecipient(recipients: recipients.count, identities: identities.count) }
            if case .age = error { throw .tampered("the vault's data keys do not open: the config was altered", area: .vault) }
            throw error
        }
        guard !plain.isEmpty, plain.count % 32 == 0 else { throw .tampered("the vault's data keys are malformed: the config was altered", area: .vault) }
        var keys: [(kid: KeyID, key: SecretBytes)] = []
        for start in stride(from: 0, to: plain.count, by: 32) {
            let key = SecretBytes(copying: plain[start..<(start + 32)])
            keys.append((SecuredField.keyID(for: key), key))
        }
        return keys
    }
}

extension Vault {
    /// The recipients `texts` (`age1…`) and those of the recipients files `files`, each written
    /// as age writes it, without repeats, in order.
    /// A recipients file someone other than the user can write or replace is refused.
    public static func recipientTexts(_ texts: [String], files: [String]) throws(AvaultError) -> [String] {
        var out: [String] = []
        for recipient in try AgeIO.recipients(texts, files: files, writersRisk: "anyone who can write it decides who can read the vault") {
            guard case .x25519(let key) = recipient else { throw .internalFailure("a recipients file gave a passphrase") }
            let text = AgeKeys.recipient(key)
            if !out.contains(text) { out.append(text) }
        }
        return out
    }

    /// Creates a vault whose data key (32 random bytes) is wrapped to `recipients` (`age1…`):
    /// each opens it with their own identity. The keyring still remembers the vault's head.
    @discardableResult
    public static func initialize(storage: VaultStorage, keyring: Keyring, recipients: [String], now: Int64 = Int64(Glibc.time(nil))) throws(AvaultError) -> Vault {
        guard try !storage.exists() else { throw .vaultExists(location: storage.location) }
        var list: [String] = []
        for r in recipients where !list.contains(r) { list.append(r) }
        guard !list.isEmpty else { throw .invalidAgeRecipients(reason: "a vault needs at least one recipient") }
        let dataKey = SecretBytes.random(count: 32)
        return try create(storage: storage, keyring: keyring, key: dataKey, kid: SecuredField.keyID(for: dataKey), now: now) { (vaultID, namingKey) throws(AvaultError) -> VaultFiles.Config in
            VaultFiles.Config(vaultID: vaultID, keyName: VaultFiles.Config.recipientsKeyName, namingKey: namingKey,
                              recipients: list, dataKeys: try VaultRecipients.wrap([dataKey], to: list, vaultID: vaultID))
        }
    }

    /// The vault's recipients (a vault to recipients), after every check of the vault's state.
    public func recipients() throws(AvaultError) -> [String] {
        guard config.isToRecipients else { throw .vaultNotToRecipients(location: storage.location, key: config.keyName) }
        _ = try checkedState()
        return config.recipients ?? []
    }

    /// What ``changeRecipients(add:remove:rotate:)`` did.
    public struct RecipientsChange: Sendable {
        /// The recipients now.
        public var recipients: [String]
        /// With `rotate`: how many envelopes were re-encrypted under the new data key.
        public var rotated: Int?
        /// The current data key's id.
        public var kid: KeyID
    }

    /// Adds and removes recipients in one write: the data keys are wrapped anew to the new list
    /// (a `recipients` log entry records it). With `rotate`, a new data key is drawn and every
    /// version, the naming key and the index are re-encrypted under it first (a `rewrap` entry),
    /// so that what is written from now on is out of reach of a removed recipient who kept the
    /// old data key. The caller must be a recipient (to unwrap the data key).
    public func changeRecipients(add: [String], remove: [String], rotate: Bool) throws(AvaultError) -> RecipientsChange {
        guard config.isToRecipients else { throw .vaultNotToRecipients(location: storage.location, key: config.keyName) }
        for r in add {
            do throws(AgeKeys.Problem) { _ = try AgeKeys.parseRecipient(r) } catch { throw .invalidAgeRecipient(r) }
        }
        defer { pendingDataKey = nil; dataKeyCache = nil }
        return try transaction { (tx: inout Transaction) throws(AvaultError) -> RecipientsChange in
            let before = config.recipients ?? []
            var next = before
            for r in add {
                guard !next.contains(r) else { throw .vaultRecipientPresent(recipient: r) }
                next.append(r)
            }
            for r in remove {
                guard let i = next.firstIndex(of: r) else { throw .vaultRecipientAbsent(recipient: r) }
                next.remove(at: i)
            }
            guard !next.isEmpty else { throw .lastVaultRecipient }
            var keys = try dataKeys()
            var rotated: Int?
            if rotate {
                let fresh = SecretBytes.random(count: 32)
                let kid = SecuredField.keyID(for: fresh)
                pendingDataKey = (kid, fresh)
                rotated = try rewrapEnvelopes(&tx)
                // Every earlier key stays wrapped (to the new list only): a crash before the new
                // index lands leaves a vault that still opens, and a reader's keyring can check
                // that the key it last saw is among them (formats.md §8.7).
                keys = [(kid, fresh)] + keys
            }
            var newConfig = tx.newConfig ?? config
            newConfig.recipients = next
            newConfig.dataKeys = try VaultRecipients.wrap(keys.map(\.key), to: next, vaultID: config.vaultID)
            tx.newConfig = newConfig
            var entry = VaultRecipients.logEntry(from: before, to: next, kid: keys[0].kid)
            if let rotated { entry.append(("rotated", .number(Double(rotated)))) }
            tx.entries.append(entry)
            return RecipientsChange(recipients: next, rotated: rotated, kid: keys[0].kid)
        }
    }
}
