#if canImport(Glibc)
import Glibc
#endif
public import VaultCrypto
public import VaultFormat

/// The keyring and the agent: what an agent holds for a keyring, how a keyring asks for it,
/// and how a new passphrase reaches it.
extension Keyring {
    /// What an agent holds for one keyring: the key derived from its passphrase with Argon2id,
    /// for one `kdf:` line, named by the keyring's canonical path.
    public struct AgentKey: Sendable {
        /// The keyring directory's canonical path.
        public let keyring: String
        /// The salt and limits of the passphrase the key is for.
        public let kdf: AgentKDF
        /// The Argon2id output (32 bytes), from which the sealing and authentication keys derive.
        public let key: SecretBytes
    }

    /// The keyring directory with symbolic links, `.` and `..` resolved (`realpath(3)`): how an
    /// agent knows a keyring. Nil when the directory does not exist or the path cannot travel
    /// in an agent message.
    public var canonicalDirectory: String? {
        guard let resolved = realpath(directory, nil) else { return nil }
        defer { free(resolved) }
        let path = String(cString: resolved)
        return AgentProtocol.isValidPath(path) ? path : nil
    }

    /// Unlocks the keyring with the passphrase (never with an agent), authenticates it, and
    /// returns the key an agent would hold for it. Refused for a keyring without passphrase,
    /// which has no such key.
    public func keyForAgent() throws(AvaultError) -> AgentKey {
        guard let kdf = file.kdf else {
            throw .keyringHasNoPassphrase(path: directory, need: .agent)
        }
        guard let agentKDF = AgentKDF(kdf) else { throw tampered("its kdf line has a salt of the wrong size") }
        unlocksWithAgent = false
        try authenticate()
        guard let keys, keys.kdf == kdf else { throw .internalFailure("\(path): internal error: the keyring was not unlocked") }
        guard let canonical = canonicalDirectory else {
            throw .keyringPathTooLong(directory: directory, limit: AgentProtocol.maximumPathSize)
        }
        return AgentKey(keyring: canonical, kdf: agentKDF, key: keys.master)
    }

    /// The keys for `kdf` from the agent, when it holds this keyring's and they open the
    /// check; nil otherwise (the caller reads the passphrase).
    func keysFromAgent(_ kdf: KeyringFile.KDF) -> UnlockedKeys? {
        guard let agent, let agentKDF = AgentKDF(kdf), let canonical = canonicalDirectory,
              let master = agent.key(keyring: canonical, kdf: agentKDF) else { return nil }
        guard let keys = try? Self.subkeys(master, kdf), Self.opensCheck(keys) else {
            agent.report(.warning("the key from the agent at \(agent.socket) does not open the keyring \(directory); using the passphrase"))
            return nil
        }
        return keys
    }

    /// After a new passphrase was written: an agent holding the key of `old` for this keyring
    /// is given the new one (it would otherwise hold a key that opens nothing).
    func tellAgent(old: KeyringFile.KDF) {
        guard let agent, let keys, let oldKDF = AgentKDF(old), let newKDF = AgentKDF(keys.kdf), let canonical = canonicalDirectory else { return }
        agent.replace(keyring: canonical, old: oldKDF, new: newKDF, key: keys.master)
    }
}

extension AgentKDF {
    /// The salt and limits of a keyring's `kdf:` line; nil when the salt is not 16 bytes.
    init?(_ kdf: KeyringFile.KDF) {
        guard kdf.salt.count == AgentProtocol.saltSize else { return nil }
        self.init(salt: kdf.salt, opsLimit: kdf.opsLimit, memLimit: kdf.memLimit)
    }
}
