/// Why a piece of text is not a well-formed ArticleVault object.
///
/// Messages are one lowercase line with no final period, suitable after `avault: `.
/// A case about secret material (``invalidKeyFile(_:)``) never repeats the input.
public enum FormatError: Error, Equatable, Sendable {
    /// A `secured` blob is malformed; the string says exactly how.
    case invalidSecuredBlob(String)
    /// A key file is malformed; the string says how, without quoting it.
    case invalidKeyFile(String)
    /// A record (front matter and body) is malformed; `line` is 1-based when known.
    case invalidRecord(String, line: Int?)
    /// A keyring file is malformed at `line` (1-based). Never quotes a secret.
    case invalidKeyring(String, line: Int)
    /// A minisign key or signature file is malformed.
    case invalidMinisign(String)
    /// A trust store is malformed at `line` (1-based).
    case invalidTrustStore(String, line: Int)
    /// A JSON document is malformed at byte `offset` (0-based).
    case invalidJSON(String, offset: Int)
    /// A minisign signature (`.minisig`, or an embedded one) is malformed.
    case invalidSignature(String)
    /// A vault file is malformed.
    case invalidVault(String)
    /// A message between avault and its agent is malformed. Never quotes the message.
    case invalidAgentMessage(String)
    /// A `.avault-recipients` file is malformed at `line` (1-based) when known.
    case invalidRecipientsFile(String, line: Int?)
    /// A site generator's configuration (`_config.yml`) cannot be read for what it publishes.
    case invalidSiteConfig(String, line: Int?)
}

extension FormatError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidSecuredBlob(let why): return "malformed secured blob: \(why)"
        case .invalidKeyFile(let why): return "malformed key file: \(why)"
        case .invalidRecord(let why, let line?): return "malformed record: line \(line): \(why)"
        case .invalidRecord(let why, nil): return "malformed record: \(why)"
        case .invalidKeyring(let why, let line): return "malformed keyring: line \(line): \(why)"
        case .invalidMinisign(let why): return "malformed minisign file: \(why)"
        case .invalidTrustStore(let why, let line): return "malformed trust store: line \(line): \(why)"
        case .invalidJSON(let why, let offset): return "malformed JSON: at byte \(offset): \(why)"
        case .invalidSignature(let why): return "malformed signature: \(why)"
        case .invalidVault(let why): return "malformed vault: \(why)"
        case .invalidAgentMessage(let why): return "malformed agent message: \(why)"
        case .invalidRecipientsFile(let why, let line?): return "malformed recipients file: line \(line): \(why)"
        case .invalidRecipientsFile(let why, nil): return "malformed recipients file: \(why)"
        case .invalidSiteConfig(let why, let line?): return "malformed site configuration: line \(line): \(why)"
        case .invalidSiteConfig(let why, nil): return "malformed site configuration: \(why)"
        }
    }
}
