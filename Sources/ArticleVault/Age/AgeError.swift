import VaultFormat

/// Why an age file was not decrypted: the outcome classes of age's own test vectors (C2SP
/// CCTV), kept apart. None carries secret material.
public enum AgeError: Error, Equatable, Sendable {
    /// The ASCII armor is malformed (anywhere in the file).
    case armor(String)
    /// The header is malformed, or a stanza for a recipient type avault knows is (age's
    /// "header failure"): nothing was decrypted.
    case header(String)
    /// No identity given opens any of the file's stanzas (of `stanzaTypes`).
    case noIdentityMatched(stanzaTypes: [String])
    /// The file is passphrase-encrypted (one scrypt stanza), but identities were given, which
    /// do not open such a file (age's rule: a passphrase is asked for only without identities).
    case passphraseFileGivenIdentities
    /// The file key opened, but the header's code does not match: the header was altered.
    case headerMAC
    /// The payload is truncated, altered or has data after its end. Plaintext authenticated
    /// before the failure may have been released already.
    case payload(String)

    init(_ format: AgeFormatError) {
        switch format {
        case .armor(let why): self = .armor(why)
        case .header(let why): self = .header(why)
        }
    }

    /// One line, without the `avault: ` prefix.
    public var message: String {
        switch self {
        case .armor(let why): "malformed age armor: \(why)"
        case .header(let why): "malformed age header: \(why)"
        case .noIdentityMatched(let types):
            "no identity matched any of the file's recipient stanzas (\(types.isEmpty ? "none" : types.joined(separator: ", ")))"
        case .passphraseFileGivenIdentities: "the file is passphrase-encrypted, but identities were given"
        case .headerMAC: "the age header's authentication code does not match: the header was altered"
        case .payload(let why): "the age payload failed: \(why)"
        }
    }
}
