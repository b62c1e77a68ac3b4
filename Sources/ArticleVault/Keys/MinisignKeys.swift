public import VaultCrypto
public import VaultFormat

/// minisign secret keys in and out of avault: the scrypt stream and checksum steps that
/// `minisign` 0.11 applies around ``Minisign/SecretKeyFile``.
public enum MinisignKeys {
    /// Opens a minisign secret key file. `password` is asked only for a protected key.
    public static func open(_ file: Minisign.SecretKeyFile, path: String,
                            password: PassphraseSource) throws(AvaultError) -> (Minisign.KeyID, Ed25519SigningKey) {
        var keynumSK = file.keynumSK
        if file.kdf == .scrypt {
            guard file.memLimit <= 4 << 30, file.opsLimit <= 1 << 32 else {
                throw .unusableMinisignKey(path: path, reason: "the key asks for scrypt limits beyond what avault allows (memory ≤ 4 GiB)")
            }
            let pass = try password.read()
            let stream: SecretBytes
            do {
                stream = try PasswordHash.scrypt(length: 104, passphrase: pass, salt: file.salt,
                                                 opsLimit: file.opsLimit, memLimit: file.memLimit)
            } catch {
                throw .crypto(error)
            }
            keynumSK = xor(file.keynumSK, stream)
            // Checksum: BLAKE2b-256("Ed" ‖ key id ‖ secret key), as minisign computes it.
            let ok = keynumSK.withUnsafeBytes { raw in
                var h = BLAKE2b(digestSize: 32)
                h.update(Array("Ed".utf8))
                h.update(UnsafeRawBufferPointer(rebasing: raw[0..<72]))
                return ConstantTime.equals(h.finalize(), Array(raw[72..<104]))
            }
            guard ok else { throw .wrongPassphrase(what: "\(path) (or the key is corrupt)", origin: password.origin) }
        }
        let keyID = keynumSK.withUnsafeBytes { Minisign.KeyID(bytes: Array($0[0..<8])) }
        do {
            return (keyID, try Ed25519SigningKey(secretKey: keynumSK.slice(8..<72)))
        } catch {
            throw .unusableMinisignKey(path: path, reason: "the secret key does not match its public half (corrupt key)")
        }
    }

    /// A minisign secret key file for `key`: scrypt-protected with `password` (minisign's own
    /// limits) or, when nil, unprotected as `minisign -G -W` writes it.
    public static func export(keyID: Minisign.KeyID, key: Ed25519SigningKey, password: SecretBytes?) throws(AvaultError) -> [UInt8] {
        let salt = SecureRandom.bytes(count: PasswordHash.scryptSaltSize)
        let plain = SecretBytes(count: 104) { out in
            out.copyBytes(from: keyID.bytes)
            key.secretKey.withUnsafeBytes { sk in
                UnsafeMutableRawBufferPointer(rebasing: out[8..<72]).copyMemory(from: sk)
                if password != nil {
                    var h = BLAKE2b(digestSize: 32)
                    h.update(Array("Ed".utf8))
                    h.update(keyID.bytes)
                    h.update(sk)
                    let chk = h.finalize()
                    UnsafeMutableRawBufferPointer(rebasing: out[72..<104]).copyBytes(from: chk)
                } else {
                    // minisign -W leaves the checksum zero and never checks it.
                    UnsafeMutableRawBufferPointer(rebasing: out[72..<104]).initializeMemory(as: UInt8.self, repeating: 0)
                }
            }
        }
        var file: Minisign.SecretKeyFile
        if let password {
            let stream: SecretBytes
            do {
                stream = try PasswordHash.scrypt(length: 104, passphrase: password, salt: salt,
                                                 opsLimit: Minisign.defaultOpsLimit, memLimit: Minisign.defaultMemLimit)
            } catch {
                throw .crypto(error)
            }
            file = Minisign.SecretKeyFile(comment: "minisign encrypted secret key", kdf: .scrypt, salt: salt,
                                          opsLimit: Minisign.defaultOpsLimit, memLimit: Minisign.defaultMemLimit,
                                          keynumSK: xor(plain, stream))
        } else {
            file = Minisign.SecretKeyFile(comment: "minisign encrypted secret key", kdf: .none,
                                          salt: [UInt8](repeating: 0, count: 32), opsLimit: 0, memLimit: 0, keynumSK: plain)
        }
        return file.serialized()
    }

    /// `a XOR b` in secret memory (the minisign key-encryption construction).
    private static func xor(_ a: SecretBytes, _ b: SecretBytes) -> SecretBytes {
        precondition(a.count == b.count)
        return SecretBytes(count: a.count) { out in
            a.withUnsafeBytes { x in
                b.withUnsafeBytes { y in
                    for i in 0..<out.count { out[i] = x[i] ^ y[i] }
                }
            }
        }
    }
}
