public import VaultCrypto

/// age's X25519 keys as text: recipients (`age1…`, Bech32 with the prefix `age`), identities
/// (`AGE-SECRET-KEY-1…`, uppercase Bech32 with the prefix `AGE-SECRET-KEY-`), identity files
/// (what `age-keygen` writes) and recipients files. Pure parsing; an identity's secret is
/// decoded straight into secret memory and no error quotes it.
public enum AgeKeys {
    /// The Bech32 prefix of a recipient.
    public static let recipientPrefix = "age"
    /// The Bech32 prefix of an identity, as written (uppercase).
    public static let identityPrefix = "AGE-SECRET-KEY-"

    /// Why a recipient, an identity or a file of them is not well formed. Never quotes a secret.
    public enum Problem: Error, Equatable, Sendable {
        /// Not an `age1…` recipient (`line`: 1-based, in a recipients file).
        case invalidRecipient(line: Int?)
        /// Not an `AGE-SECRET-KEY-1…` identity (`line`: 1-based, in an identity file).
        case invalidIdentity(line: Int?)
        /// A kind of key avault does not read (`AGE-PLUGIN-…`, an SSH key, a hybrid identity).
        case unsupported(what: String, line: Int)
        /// The file holds no recipient or no identity.
        case empty
        /// A line of the file is not UTF-8 text or holds a NUL.
        case notText(line: Int)
    }

    /// The recipient `age1…` of an X25519 public key.
    public static func recipient(_ publicKey: [UInt8]) -> String {
        Bech32.encode(hrp: recipientPrefix, data: publicKey)
    }

    /// Parses an `age1…` recipient: its 32-byte X25519 public key.
    public static func parseRecipient(_ text: String) throws(Problem) -> [UInt8] {
        guard let decoded = try? Bech32.decode(text), decoded.hrp == recipientPrefix, decoded.data.count == 32 else {
            throw .invalidRecipient(line: nil)
        }
        return decoded.data
    }

    /// The identity text `AGE-SECRET-KEY-1…` of a 32-byte secret, in secret memory.
    public static func identityText(_ secret: SecretBytes) -> SecretBytes {
        Bech32.encodeSecret(hrp: identityPrefix.lowercased(), data: secret)
    }

    /// Parses one identity: its 32-byte secret scalar.
    public static func parseIdentity(_ text: UnsafeBufferPointer<UInt8>, line: Int? = nil) throws(Problem) -> SecretBytes {
        guard let decoded = try? Bech32.decodeSecret(text, expectedCount: 32),
              decoded.hrp.elementsEqual(identityPrefix.utf8), decoded.count == 32 else {
            throw .invalidIdentity(line: line)
        }
        return decoded.data
    }

    /// The lines of a key file as age reads them (Go's `bufio.ScanLines`): split at LF, one CR
    /// at the end of each line dropped (the last one's too, with no LF after it), empty lines
    /// and lines starting with `#` left out. `body` gets each remaining line and its
    /// 1-based number.
    static func contentLines(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeBufferPointer<UInt8>, Int) throws(Problem) -> Void) throws(Problem) {
        let u = bytes.bindMemory(to: UInt8.self)
        var start = 0, number = 0
        while start < u.count {
            number += 1
            var end = start
            while end < u.count, u[end] != 0x0A { end += 1 }
            var stop = end
            if stop > start, u[stop - 1] == 0x0D { stop -= 1 }
            let line = UnsafeBufferPointer(rebasing: u[start..<stop])
            start = end + 1
            if line.isEmpty || line[0] == UInt8(ascii: "#") { continue }
            guard !line.contains(0) else { throw .notText(line: number) }
            try body(line, number)
        }
    }

    /// Parses an identity file: one `AGE-SECRET-KEY-1…` per line, `#` comments and empty lines
    /// ignored (as `age -i` reads it). At least one identity; anything else is an error naming
    /// the line, never quoting it.
    public static func parseIdentityFile(_ bytes: UnsafeRawBufferPointer) throws(Problem) -> [SecretBytes] {
        var identities: [SecretBytes] = []
        try contentLines(bytes) { line, number throws(Problem) in
            if line.starts(with: "AGE-PLUGIN-".utf8) { throw .unsupported(what: "an age plugin identity", line: number) }
            if line.starts(with: "AGE-SECRET-KEY-PQ-".utf8) { throw .unsupported(what: "a post-quantum (hybrid) identity", line: number) }
            if line.starts(with: "-----BEGIN".utf8) { throw .unsupported(what: "an SSH or armored key", line: number) }
            identities.append(try parseIdentity(line, line: number))
        }
        guard !identities.isEmpty else { throw .empty }
        return identities
    }

    /// Parses a recipients file (`age -R`): one `age1…` per line, `#` comments and empty lines
    /// ignored. Returns the public keys in order.
    public static func parseRecipientsFile(_ bytes: UnsafeRawBufferPointer) throws(Problem) -> [[UInt8]] {
        var recipients: [[UInt8]] = []
        try contentLines(bytes) { line, number throws(Problem) in
            guard let text = String(validating: line, as: UTF8.self) else { throw .notText(line: number) }
            if text.hasPrefix("ssh-") { throw .unsupported(what: "an SSH recipient", line: number) }
            do throws(Problem) { recipients.append(try parseRecipient(text)) } catch { throw .invalidRecipient(line: number) }
        }
        guard !recipients.isEmpty else { throw .empty }
        return recipients
    }

    /// The identity file `age-keygen` writes, in secret memory:
    /// `# created: TIME`, `# public key: age1…`, the identity, each line ending in LF.
    public static func identityFile(secret: SecretBytes, publicKey: [UInt8], created: String) -> SecretBytes {
        let head = Array("# created: \(created)\n# public key: \(recipient(publicKey))\n".utf8)
        let identity = identityText(secret)
        return SecretBytes(count: head.count + identity.count + 1) { out in
            out.copyBytes(from: head)
            identity.withUnsafeBytes { id in
                UnsafeMutableRawBufferPointer(rebasing: out[head.count..<(head.count + id.count)]).copyMemory(from: id)
            }
            out[out.count - 1] = 0x0A
        }
    }
}

extension AgeKeys.Problem: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidRecipient(let line?): "line \(line): not an age X25519 recipient (age1…)"
        case .invalidRecipient(nil): "not an age X25519 recipient (age1…)"
        case .invalidIdentity(let line?): "line \(line): not an age X25519 identity (AGE-SECRET-KEY-1…)"
        case .invalidIdentity(nil): "not an age X25519 identity (AGE-SECRET-KEY-1…)"
        case .unsupported(let what, let line): "line \(line): \(what), which avault does not support"
        case .empty: "no keys in the file"
        case .notText(let line): "line \(line): not text"
        }
    }
}
