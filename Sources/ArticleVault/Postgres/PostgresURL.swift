/// A `postgresql://` or `postgres://` URL cut where libpq cuts it (`conninfo_uri_parse_options`
/// in `fe-connect.c`), for the questions avault asks of it before libpq sees it: does it carry a
/// password, and what may a message show of it.
///
/// libpq's rule: after the `://`, the user information runs to the first `@`, if an `@` comes
/// before the first `/` (a `?`, a `:` or a `#` before it does not end it: in
/// `postgresql://u?x:pw@/db` the user is `u?x` and the password `pw`); in it, the user name runs
/// to the first `:` and the password from there to the `@`. The parameters follow the first `?`
/// after the user information, as `key=value` pairs between `&`s, each side percent-decoded.
///
/// Cut by Unicode scalars, as libpq cuts bytes: a Swift `Character` would take an `@`, `:`, `?`,
/// `&` or `=` followed by a combining mark for another character, and miss the cut (a password
/// in `u:pw@\u{301}host` went unseen).
struct PostgresURL {
    /// `postgresql://` or `postgres://`.
    let scheme: Substring
    /// What comes before the `@`, without it; nil when there is no `@` before the first `/`.
    let userInformation: Substring?
    /// The hosts, ports and database name: from after the `@` (or the scheme) to the first `?`.
    let location: Substring
    /// What follows the first `?` after the user information; nil when there is no `?`.
    let parameters: Substring?

    /// libpq takes these two prefixes only, exactly (in lowercase).
    static let schemes = ["postgresql://", "postgres://"]

    /// Whether `text` names a PostgreSQL vault.
    static func isURL(_ text: String) -> Bool {
        schemes.contains { text.utf8.starts(with: $0.utf8) }
    }

    /// The scheme of `text` when it starts like a URL of another kind (`word://`, RFC 3986's
    /// letters, digits, `+`, `-`, `.`), `Postgresql://` among them: libpq reads
    /// only the two lowercase prefixes, and anything else would be taken for a directory.
    static func otherScheme(_ text: String) -> String? {
        guard let end = text.firstIndex(of: ":"), text[end...].hasPrefix("://") else { return nil }
        let scheme = text[..<end]
        guard let first = scheme.unicodeScalars.first, first.isASCIILetter,
              scheme.unicodeScalars.allSatisfy({ $0.isASCIILetter || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0) }) else { return nil }
        return String(scheme)
    }

    /// The keywords of libpq's connection strings (`host=… dbname=…`), up to libpq 17.
    static let keywords: Set<String> = [
        "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "require_auth", "channel_binding",
        "connect_timeout", "client_encoding", "options", "application_name", "fallback_application_name",
        "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "replication",
        "gssencmode", "sslmode", "sslnegotiation", "requiressl", "sslcompression", "sslcert", "sslkey", "sslpassword",
        "sslcertmode", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version",
        "ssl_max_protocol_version", "krbsrvname", "gsslib", "gssdelegation", "service", "target_session_attrs",
        "load_balance_hosts",
    ]

    /// The libpq keyword that `text` starts by setting, as a connection string does
    /// (`keyword=value …`, or `keyword = value …`); nil when it starts otherwise (a path such as
    /// `./host=x` or `/srv/a=b` names a directory).
    static func connectionStringKeyword(_ text: String) -> String? {
        let start = text.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let eq = start.firstIndex(of: "=") else { return nil }
        let key = String(start[..<eq].reversed().drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }.reversed())
        return keywords.contains(key) ? key : nil
    }

    /// `text` cut as libpq cuts it; nil when it is not such a URL.
    init?(_ text: String) {
        guard let scheme = Self.schemes.first(where: { text.utf8.starts(with: $0.utf8) }) else { return nil }
        let all = Substring(text).unicodeScalars
        let rest = all.dropFirst(scheme.unicodeScalars.count)
        self.scheme = Substring(all[..<rest.startIndex])
        var after = rest
        if let end = rest.firstIndex(where: { $0 == "@" || $0 == "/" }), rest[end] == "@" {
            userInformation = Substring(rest[..<end])
            after = rest[rest.index(after: end)...]
        } else {
            userInformation = nil
        }
        if let q = after.firstIndex(of: "?") {
            location = Substring(after[..<q])
            parameters = Substring(after[after.index(after: q)...])
        } else {
            location = Substring(after)
            parameters = nil
        }
    }

    /// The parameters, each with its key percent-decoded (nil value: no `=`).
    var pairs: [(raw: Substring, key: String, value: Substring?)] {
        guard let parameters else { return [] }
        return parameters.unicodeScalars.split(separator: "&", omittingEmptySubsequences: false).map { scalars in
            let pair = Substring(scalars)
            guard let eq = scalars.firstIndex(of: "=") else { return (pair, pair.removingPercentEncoding, nil) }
            return (pair, Substring(scalars[..<eq]).removingPercentEncoding, Substring(scalars[scalars.index(after: eq)...]))
        }
    }

    /// A secret a URL must not carry, since anyone can read it in the process list.
    enum Password { case user, sslKey }

    /// A password in the user information (anything after a `:` in it) or a `password`
    /// parameter, else the passphrase of a TLS client key (`sslpassword`); keys percent-decoded,
    /// in any case.
    var password: Password? {
        if let userInformation, userInformation.unicodeScalars.contains(":") { return .user }
        if pairs.contains(where: { $0.key.lowercased() == "password" }) { return .user }
        return pairs.contains { $0.key.lowercased() == "sslpassword" } ? .sslKey : nil
    }

    /// Whether a message may show the value of the parameter `key` (decoded): only that of a
    /// plain keyword (letters, digits, `_`, as all of libpq's are) that is not password-like
    /// (`password`, `sslpassword`, `passfile`, or a misspelling of them). Any other key's value
    /// is hidden: `password%00=…` is not libpq's `password`, but it is what the user meant.
    static func showsValue(of key: String) -> Bool {
        !key.isEmpty && key.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F }
            && !key.lowercased().contains("pass")
    }

    /// The text of the values a message must not show: the password of the user information
    /// and the hidden parameters' values (as written, and percent-decoded).
    var secrets: [String] {
        var out: [String] = []
        if let userInformation, let colon = userInformation.unicodeScalars.firstIndex(of: ":") {
            out.append(String(userInformation.unicodeScalars[userInformation.unicodeScalars.index(after: colon)...]))
        }
        for pair in pairs where !Self.showsValue(of: pair.key) {
            if let value = pair.value { out += [String(value), value.removingPercentEncoding] }
        }
        return out.filter { !$0.isEmpty }
    }

    /// The URL as a message may show it: the password of the user information and the values
    /// of password-like or unreadable parameters replaced by `***`.
    var redacted: String {
        var out = String(scheme)
        if let userInformation {
            if let colon = userInformation.unicodeScalars.firstIndex(of: ":") {
                out += Substring(userInformation.unicodeScalars[..<colon]) + ":***"
            } else {
                out += userInformation
            }
            out += "@"
        }
        out += location
        if parameters != nil {
            out += "?" + pairs.map { pair in
                guard let value = pair.value else { return String(pair.raw) }
                let key = Substring(pair.raw.unicodeScalars.prefix(pair.raw.unicodeScalars.count - value.unicodeScalars.count - 1))
                return Self.showsValue(of: pair.key) ? String(pair.raw) : key + "=***"
            }.joined(separator: "&")
        }
        return out
    }

    /// `message` (libpq's, which may quote the URL or one of its parts) with the URL replaced
    /// by its redacted form and every secret's quoted text by `***`.
    func redacting(_ message: String, url: String) -> String {
        var out = message.replacing(url, with: redacted)
        for secret in secrets.sorted(by: { $0.count > $1.count }) {
            out = out.replacing("\"" + secret + "\"", with: "\"***\"")
        }
        return out
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

extension Substring {
    /// With `%XX` escapes decoded (bytes that are not UTF-8 are replaced).
    var removingPercentEncoding: String {
        var out: [UInt8] = []
        var i = utf8.startIndex
        while i != utf8.endIndex {
            let c = utf8[i]
            if c == 0x25, let a = utf8.index(i, offsetBy: 1, limitedBy: utf8.endIndex), a != utf8.endIndex,
               let b = utf8.index(a, offsetBy: 1, limitedBy: utf8.endIndex), b != utf8.endIndex,
               let v = UInt8(String(decoding: [utf8[a], utf8[b]], as: UTF8.self), radix: 16) {
                out.append(v)
                i = utf8.index(after: b)
            } else {
                out.append(c)
                i = utf8.index(after: i)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
