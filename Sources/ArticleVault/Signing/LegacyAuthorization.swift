public import VaultFormat

/// Permission to decrypt a legacy v1 blob.
///
/// v1 blobs are AES-CBC without authentication: whether a decryption succeeds or fails tells
/// whoever chose the ciphertext something about the plaintext (a padding oracle), and the
/// plaintext may have been altered by anyone. So every v1 decryption in ArticleVault takes one
/// of these, which exists only when something authenticates the blob — a valid signature by
/// a trusted key over the record that holds it — or the user explicitly accepted the risk.
public struct LegacyAuthorization: Sendable {
    /// Why the decryption is allowed.
    public enum Basis: Sendable, Equatable {
        /// The record's signatures by these trusted keys verify, and they cover the blob.
        case signedRecord(keyIDs: [String])
        /// The user accepted decrypting unauthenticated blobs.
        case userOptIn
    }

    public let basis: Basis

    private init(basis: Basis) { self.basis = basis }

    /// The user's explicit opt-in (`--allow-unauthenticated-legacy`).
    public static let userOptIn = LegacyAuthorization(basis: .userOptIn)

    /// What to say once when decrypting under ``userOptIn``.
    public static let oracleWarning = "decrypting an unauthenticated legacy v1 blob: anyone could have altered it, "
        + "and whether its decryption succeeds or fails is itself a padding oracle to whoever supplied it"

    /// Authorisation from the record's own signatures: present when they verify under
    /// `policy` (a valid signature by a trusted key, required roles covered).
    public static func signedRecord(_ document: RecordDocument, policy: TrustPolicy) -> LegacyAuthorization? {
        guard let signatures = try? RecordSignatures.entries(in: document.fields), !signatures.isEmpty else { return nil }
        let reports = policy.judge(recordSignatures: signatures) { MinisignSigning.prehash(canonicalBytesOf: document) }
        return authorization(for: reports, policy: policy)
    }

    /// The authorisation a verified record's signature reports give, if their outcome is valid.
    static func authorization(for reports: [SignatureReport], policy: TrustPolicy) -> LegacyAuthorization? {
        guard policy.outcome(of: reports)?.outcome == .valid else { return nil }
        return LegacyAuthorization(basis: .signedRecord(keyIDs: reports.filter { $0.status == .valid }.map(\.keyID)))
    }
}

/// When a command may decrypt legacy v1 blobs: when a trusted signature over the record
/// authenticates the blob (judged by `trust`), or when the user opted in.
public struct LegacyPolicy: Sendable {
    /// The trust policy that judges a record's signatures; nil when there is none to consult.
    public var trust: TrustPolicy?
    /// The user accepted decrypting unauthenticated blobs (`--allow-unauthenticated-legacy`).
    public var allowUnauthenticated: Bool

    public init(trust: TrustPolicy?, allowUnauthenticated: Bool) {
        self.trust = trust
        self.allowUnauthenticated = allowUnauthenticated
    }

    /// The authorisation for a v1 blob held by `record` (nil for a bare blob): from its
    /// signatures first, else the opt-in, else none.
    public func authorization(for record: RecordDocument?) -> LegacyAuthorization? {
        if let record, let trust, let signed = LegacyAuthorization.signedRecord(record, policy: trust) { return signed }
        return allowUnauthenticated ? .userOptIn : nil
    }
}
