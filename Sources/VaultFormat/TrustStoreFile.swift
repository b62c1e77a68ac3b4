/// The trust store: publisher public keys (minisign format) with names, roles, a validity
/// window and revocation. Pure parse and serialise; see `docs/formats.md` section 5.
public struct TrustStoreFile: Equatable, Sendable {
    /// The first line of every trust store.
    public static let magic = "avault-trust v1"

    /// One trusted publisher key.
    public struct Entry: Equatable, Sendable {
        public var publicKey: Minisign.PublicKey
        public var name: String
        public var roles: [String]
        /// Signatures made before it are not trusted.
        public var notBefore: Timestamp?
        /// Signatures made after it are not trusted.
        public var notAfter: Timestamp?
        /// When the key was added.
        public var added: Timestamp
        /// When and why the key was revoked.
        public var revoked: (time: Timestamp, reason: String)?

        public init(publicKey: Minisign.PublicKey, name: String, roles: [String] = [], notBefore: Timestamp? = nil,
                    notAfter: Timestamp? = nil, added: Timestamp, revoked: (time: Timestamp, reason: String)? = nil) {
            self.publicKey = publicKey; self.name = name; self.roles = roles; self.notBefore = notBefore
            self.notAfter = notAfter; self.added = added; self.revoked = revoked
        }

        public static func == (a: Entry, b: Entry) -> Bool {
            a.publicKey == b.publicKey && a.name == b.name && a.roles == b.roles && a.notBefore == b.notBefore
                && a.notAfter == b.notAfter && a.added == b.added && a.revoked?.time == b.revoked?.time
                && a.revoked?.reason == b.revoked?.reason
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry] = []) { self.entries = entries }

    /// The entry for a key id, if any.
    public func entry(for id: Minisign.KeyID) -> Entry? {
        entries.first { $0.publicKey.keyID == id }
    }

    /// The revocation that holds for `entry`: its own, else that of the first entry revoked
    /// with the same public key, whose key id it gives (a key id is covered by no signature,
    /// so a revocation follows the key, as verification applies it).
    public func revocation(of entry: Entry) -> (time: Timestamp, reason: String, keyID: Minisign.KeyID?)? {
        if let r = entry.revoked { return (r.time, r.reason, nil) }
        guard let r = revocation(ofPublicKey: entry.publicKey.key) else { return nil }
        return (r.time, r.reason, r.keyID)
    }

    /// The revocation that holds for the public key `key` (32 bytes), under whatever id the
    /// store holds it: that of the first entry revoked with it, whose key id it gives; nil when
    /// no entry with it is revoked. For a key that has no entry of its own (a keyring key).
    public func revocation(ofPublicKey key: [UInt8]) -> (time: Timestamp, reason: String, keyID: Minisign.KeyID)? {
        guard let other = entries.first(where: { $0.revoked != nil && $0.publicKey.key == key }), let r = other.revoked else { return nil }
        return (r.time, r.reason, other.publicKey.keyID)
    }

    /// The first entry with the public key `key` (32 bytes), under whatever id the store holds
    /// it, whose validity window leaves `time` out (nil for no time: any window does), and
    /// whether `time` is before its start; nil when every such window holds. For a key that
    /// has no entry under its own id (a keyring key): a window, as a revocation, follows the key.
    public func windowLeavingOut(_ time: Int64?, publicKey key: [UInt8]) -> (entry: Entry, before: Bool)? {
        for e in entries where e.publicKey.key == key && (e.notBefore != nil || e.notAfter != nil) {
            guard let time else { return (e, e.notBefore != nil) }
            if let nb = e.notBefore, time < nb.seconds { return (e, true) }
            if let na = e.notAfter, time > na.seconds { return (e, false) }
        }
        return nil
    }

    /// Whether `text` may be a name, role or reason: one line, no control characters
    /// (C0, DEL or C1, which terminals may take for escape sequences).
    public static func isValidText(_ text: String, allowEmpty: Bool = false) -> Bool {
        (allowEmpty || !text.isEmpty) && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && !(0x7F...0x9F).contains($0.value) }
    }

    /// Whether `role` is a valid role: 1–64 of `a–z 0–9 . _ -`.
    public static func isValidRole(_ role: String) -> Bool {
        let u = Array(role.utf8)
        return (1...64).contains(u.count) && u.allSatisfy {
            (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D
        }
    }

    /// The file's text.
    public func serialized() -> String {
        var out = Self.magic + "\n"
        for e in entries {
            out += "\nkey: \(e.publicKey.keyID.printed) \(e.publicKey.line)\n"
            out += "name: \(e.name)\n"
            for role in e.roles { out += "role: \(role)\n" }
            if let t = e.notBefore { out += "not-before: \(t.text)\n" }
            if let t = e.notAfter { out += "not-after: \(t.text)\n" }
            out += "added: \(e.added.text)\n"
            if let r = e.revoked { out += "revoked: \(r.time.text)" + (r.reason.isEmpty ? "" : " \(r.reason)") + "\n" }
        }
        return out
    }

    /// Parses a trust store strictly; errors name the line.
    public init(parsing text: String) throws(FormatError) {
        var lines = TextLines.split(text, stripCR: false)
        guard lines.last?.isEmpty == true else { throw .invalidTrustStore("the file does not end with a newline", line: lines.count) }
        lines.removeLast()
        guard lines.first.map({ $0.utf8.elementsEqual(Self.magic.utf8) }) == true else {
            throw .invalidTrustStore("not an avault trust store (expected '\(Self.magic)')", line: 1)
        }
        var i = 1
        func optional(_ name: String) -> Substring? {
            guard i < lines.count, let value = TextLines.value(lines[i], after: name + ": ") else { return nil }
            i += 1
            return value
        }
        func required(_ name: String) throws(FormatError) -> Substring {
            guard let v = optional(name) else { throw .invalidTrustStore("expected '\(name): …'", line: i + 1) }
            return v
        }
        func time(_ value: Substring?, _ name: String) throws(FormatError) -> Timestamp? {
            guard let value else { return nil }
            guard let time = Timestamp(String(value)) else { throw .invalidTrustStore("'\(name)' is not an RFC 3339 time", line: i) }
            return time
        }
        var entries: [Entry] = []
        var seen = Set<Minisign.KeyID>()
        while i < lines.count {
            guard lines[i].utf8.isEmpty else { throw .invalidTrustStore("expected a blank line before the next key", line: i + 1) }
            i += 1
            let keyLine = i + 1
            let head = try required("key").split(separator: " ", omittingEmptySubsequences: false)
            guard head.count == 2 else { throw .invalidTrustStore("expected 'key: <KEYID> <base64 public key>'", line: keyLine) }
            let publicKey: Minisign.PublicKey
            do { publicKey = try Minisign.PublicKey(line: head[1]) } catch {
                throw .invalidTrustStore("\(error)", line: keyLine)
            }
            guard head[0] == Substring(publicKey.keyID.printed) else {
                throw .invalidTrustStore("key id \(head[0]) does not match the public key's id \(publicKey.keyID.printed)", line: keyLine)
            }
            guard seen.insert(publicKey.keyID).inserted else {
                throw .invalidTrustStore("key \(publicKey.keyID.printed) appears twice", line: keyLine)
            }
            let name = String(try required("name"))
            guard Self.isValidText(name) else { throw .invalidTrustStore("invalid name", line: i) }
            var roles: [String] = []
            while let role = optional("role") {
                guard Self.isValidRole(String(role)) else { throw .invalidTrustStore("invalid role", line: i) }
                roles.append(String(role))
            }
            let notBefore = try time(optional("not-before"), "not-before")
            let notAfter = try time(optional("not-after"), "not-after")
            guard let added = try time(try required("added"), "added") else { throw .invalidTrustStore("expected 'added: …'", line: i) }
            var revoked: (Timestamp, String)?
            if let r = optional("revoked") {
                let (timeText, reason) = TextLines.splitAtFirstSpace(r)
                guard let t = try time(timeText, "revoked") else { throw .invalidTrustStore("expected 'revoked: <time> [reason]'", line: i) }
                // A reason, when there is a space, is text on one line like a name: not empty (which
                // would not be written back) and without control characters (it is printed).
                if let reason, !Self.isValidText(String(reason)) {
                    throw .invalidTrustStore("invalid revocation reason (expected 'revoked: <time>' or 'revoked: <time> <reason>')", line: i)
                }
                revoked = (t, reason.map(String.init) ?? "")
            }
            entries.append(Entry(publicKey: publicKey, name: name, roles: roles, notBefore: notBefore,
                                 notAfter: notAfter, added: added, revoked: revoked))
        }
        self.init(entries: entries)
    }
}
