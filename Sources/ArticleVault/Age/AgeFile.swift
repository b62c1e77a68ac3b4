#if canImport(Glibc)
import Glibc
#endif
public import VaultCrypto
import VaultFormat

/// Where the bytes of an age file (or of a plaintext to encrypt) come from.
public protocol AgeInput: AnyObject {
    /// Fills as much of `buffer` as there is; 0 only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int
}

/// An open file descriptor (a file, standard input, a pipe).
public final class AgeFileInput: AgeInput {
    let fd: Int32
    let name: String
    /// Reads `fd` (not closed here); `name` is used in messages.
    public init(fd: Int32, name: String) { self.fd = fd; self.name = name }
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int {
        try FileSystem.readFull(fd: fd, into: buffer, name: name)
    }
}

/// Bytes in memory.
public final class AgeBytesInput: AgeInput {
    let bytes: [UInt8]
    var offset = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)])) }
        offset += n
        return n
    }
}

/// A buffered reader over an ``AgeInput``: what was looked at and not used is read again.
/// Bytes are moved with `memcpy`/`memmove`, never one by one.
final class AgeReader {
    let input: AgeInput
    private var storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 17, alignment: 16)
    private(set) var start = 0
    private var end = 0
    private(set) var ended = false

    init(_ input: AgeInput) { self.input = input }
    deinit { storage.deallocate() }

    var available: Int { end - start }
    /// The bytes read and not yet used.
    var window: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[start..<end]) }

    /// Marks `count` bytes of the window used.
    func consume(_ count: Int) { precondition(count <= available); start += count }

    /// Reads more (up to `count` bytes) after the window; false at the end.
    @discardableResult
    func fill(_ count: Int = 1 << 16) throws(AvaultError) -> Bool {
        guard !ended else { return false }
        if start > 0 {
            if available > 0, let base = storage.baseAddress { base.copyMemory(from: base + start, byteCount: available) }
            end -= start; start = 0
        }
        if end + count > storage.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: max(storage.count * 2, end + count), alignment: 16)
            if end > 0 { bigger.baseAddress!.copyMemory(from: storage.baseAddress!, byteCount: end) }
            storage.deallocate()
            storage = bigger
        }
        let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: storage[end..<(end + count)]))
        end += n
        if n == 0 { ended = true }
        return n > 0
    }

    /// Exactly `count` bytes, or fewer only at the end.
    func read(_ count: Int) throws(AvaultError) -> [UInt8] {
        while available < count, try fill(max(count - available, 1 << 16)) {}
        let n = min(count, available)
        let out = [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: window[0..<n])) }
            initialized = n
        }
        start += n
        return out
    }
}

/// An ``AgeInput`` that takes age's ASCII armor off another.
final class ArmoredInput: AgeInput {
    let base: AgeInput
    var decoder = AgeArmor.Decoder()
    var decoded: [UInt8] = []
    var raw = [UInt8](repeating: 0, count: 1 << 16)
    var offset = 0
    var finished = false

    init(_ base: AgeInput) { self.base = base }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int {
        var written = 0
        while written < buffer.count {
            if offset == decoded.count {
                if finished { break }
                decoded.removeAll(keepingCapacity: true); offset = 0
                let n = try withRawMutable(&raw) { r throws(AvaultError) in try base.read(into: r) }
                do throws(AgeFormatError) {
                    if n == 0 {
                        decoded = try decoder.finish(); finished = true
                    } else {
                        decoded = try withRaw(raw) { r throws(AgeFormatError) in try decoder.decode(UnsafeRawBufferPointer(rebasing: r[0..<n])) }
                    }
                } catch { throw .age(AgeError(error), file: nil) }
                continue
            }
            let n = min(buffer.count - written, decoded.count - offset)
            decoded.withUnsafeBytes { d in
                UnsafeMutableRawBufferPointer(rebasing: buffer[written..<(written + n)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: d[offset..<(offset + n)]))
            }
            written += n; offset += n
        }
        return written
    }
}

/// Someone an age file is encrypted to.
public enum AgeRecipient: Sendable {
    /// An X25519 recipient (`age1…`): its public key.
    case x25519([UInt8])
    /// A passphrase (scrypt); such a recipient must be the only one. `workFactor` is log2(N).
    case passphrase(SecretBytes, workFactor: Int)
}

/// The age v1 file format (age-encryption.org/v1): encryption to X25519 and passphrase
/// recipients and decryption with X25519 identities or a passphrase, exactly as age reads and
/// writes it, ASCII armor included. See docs/formats.md section 10.
public enum AgeFile {
    /// The payload's chunk size (64 KiB of plaintext).
    public static let chunkSize = 1 << 16
    /// The work factor (log2 N) avault writes for passphrase files, as age does.
    public static let defaultWorkFactor = 18
    /// The largest work factor avault reads (age's limit): N = 2^22 needs 4 GiB of memory.
    public static let maximumWorkFactor = 22

    static let x25519Info = Array("age-encryption.org/v1/X25519".utf8)
    static let scryptLabel = Array("age-encryption.org/v1/scrypt".utf8)
    static let zeroNonce = [UInt8](repeating: 0, count: 12)

    // MARK: Decryption

    /// Decrypts the age file read from `input`, handing the plaintext to `output` chunk by
    /// chunk as each is authenticated (as age releases it: a file whose payload fails later has
    /// had its earlier chunks released — write to a temporary file to keep nothing then).
    /// - `armored`: true or false to say, nil to detect the armor as age does.
    /// - `identities`: X25519 secrets, tried in order against the file's X25519 stanzas.
    /// - `passphrase`: asked only when the file is passphrase-encrypted.
    /// Failures are ``AvaultError/age(_:file:)`` with the outcome class, or I/O errors.
    public static func decrypt(_ input: AgeInput, armored: Bool?, identities: [SecretBytes],
                               passphrase: (() throws(AvaultError) -> SecretBytes)?,
                               output: (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) {
        try decrypt(input, armored: armored, fileKey: { header throws(AvaultError) in
            try unwrap(header, identities: identities, passphrase: passphrase)
        }, output: output)
    }

    /// Whether `bytes` hold a header's closing line whole: a newline, `---`, and a newline after
    /// them. `scanned` (kept between calls on a growing window) is where the search resumes.
    static func holdsClosingLine(_ bytes: UnsafeRawBufferPointer, from scanned: inout Int) -> Bool {
        var i = scanned
        while i + 4 <= bytes.count {
            if bytes[i] == 0x0A, bytes[i + 1] == 0x2D, bytes[i + 2] == 0x2D, bytes[i + 3] == 0x2D {
                scanned = i // found: from here next time, should its newline not be in yet
                var j = i + 4
                while j < bytes.count { if bytes[j] == 0x0A { return true }; j += 1 }
                return false
            }
            i += 1
        }
        scanned = max(scanned, i)
        return false
    }

    /// Decrypts as ``decrypt(_:armored:identities:passphrase:output:)``, the file key given by
    /// `fileKey` from the parsed header (which may refuse it first); the header's code is
    /// checked under that key before any payload is read.
    static func decrypt(_ input: AgeInput, armored: Bool?, fileKey: (AgeHeader) throws(AvaultError) -> SecretBytes,
                        output: (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) {
        var reader = AgeReader(input)
        var isArmored = armored ?? false
        if armored == nil {
            while reader.available < AgeArmor.maximumWhitespace + AgeArmor.begin.utf8.count, try reader.fill() {}
            isArmored = AgeArmor.looksArmored(reader.window)
        }
        if isArmored {
            // The bytes looked at go through the armor decoder too.
            let seen = AgeBytesInput(Array(reader.window))
            let chained = ChainedInput(seen, reader.ended ? nil : input)
            reader = AgeReader(ArmoredInput(chained))
        }

        // The header. It is parsed from its start each time, so only when it may be whole: the
        // first time (a file that is not age fails at once), then once its closing line is in
        // (`\n---` and the newline after it), it is over the size limit, or the input has ended.
        // (Parsing again after every read took quadratic time: 41 s for a 1 MiB header.)
        let header: AgeHeader
        var scanned = 0 // no closing line starts before this
        var parsedOnce = false
        while true {
            let window = reader.window
            if !parsedOnce || reader.ended || window.count >= AgeHeader.maximumSize || Self.holdsClosingLine(window, from: &scanned) {
                parsedOnce = true
                let parsed: AgeHeader.Parsed
                do throws(AgeFormatError) {
                    parsed = try AgeHeader.parse(window, atEnd: reader.ended)
                } catch { throw .age(AgeError(error), file: nil) }
                if case .header(let h, let length) = parsed {
                    header = h
                    reader.consume(length)
                    break
                }
            }
            try reader.fill()
        }

        let fileKey = try fileKey(header)
        let headerKey = try crypto { () throws(CryptoError) in try HKDF.sha256(ikm: fileKey, salt: [UInt8](), info: Array("header".utf8), length: 32) }
        let mac = try crypto { () throws(CryptoError) in try HMACSHA256.authenticate(header.bytesWithoutMAC(), key: headerKey) }
        guard ConstantTime.equals(mac, header.mac) else { throw .age(.headerMAC, file: nil) }

        // The payload.
        let nonce = try reader.read(16)
        // age counts the nonce as part of the header: a file that ends before it is a header failure.
        guard nonce.count == 16 else { throw .age(.header("the file ends before the payload's nonce"), file: nil) }
        let payloadKey = try crypto { () throws(CryptoError) in try HKDF.sha256(ikm: fileKey, salt: nonce, info: Array("payload".utf8), length: 32) }
        var counter: UInt64 = 0
        let sealedSize = chunkSize + ChaCha20Poly1305.tagSize
        var plain = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let sealed = try reader.read(sealedSize)
            if sealed.isEmpty { throw .age(.payload("the payload ends without its last chunk (truncated)"), file: nil) }
            var last = sealed.count < sealedSize
            if last, counter > 0, sealed.count == ChaCha20Poly1305.tagSize {
                throw .age(.payload("an empty last chunk after others"), file: nil)
            }
            var n = -1
            for attempt in (last ? [true] : [false, true]) {
                do throws(CryptoError) {
                    n = try withRaw(sealed) { s throws(CryptoError) in
                        try withRawMutable(&plain) { p throws(CryptoError) in
                            try ChaCha20Poly1305.open(s, into: p, key: payloadKey, nonce: chunkNonce(counter, last: attempt))
                        }
                    }
                    last = attempt
                    break
                } catch {}
            }
            guard n >= 0 else { throw .age(.payload("a payload chunk does not authenticate"), file: nil) }
            try withRaw(plain) { p throws(AvaultError) in try output(UnsafeRawBufferPointer(rebasing: p[0..<n])) }
            counter += 1
            if last {
                guard try reader.read(1).isEmpty else { throw .age(.payload("data after the end of the payload"), file: nil) }
                break
            }
        }
        wipe(&plain)
    }

    /// The nonce of chunk `counter`: 11 bytes of big-endian counter and the last-chunk flag.
    static func chunkNonce(_ counter: UInt64, last: Bool) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: 12)
        for i in 0..<8 { nonce[10 - i] = UInt8(truncatingIfNeeded: counter >> UInt64(8 * i)) }
        nonce[11] = last ? 1 : 0
        return nonce
    }

    /// The file key, from the first identity that opens a stanza (age's order: identities
    /// outside, stanzas inside; a malformed stanza of a known type is an error).
    static func unwrap(_ header: AgeHeader, identities: [SecretBytes], passphrase: (() throws(AvaultError) -> SecretBytes)?) throws(AvaultError) -> SecretBytes {
        let types = header.stanzas.map(\.type)
        if types.contains("scrypt"), header.stanzas.count != 1 {
            throw .age(.header("a passphrase (scrypt) stanza must be the only one"), file: nil)
        }
        for identity in identities {
            let ownKey = try crypto { () throws(CryptoError) in try X25519.publicKey(of: identity) }
            for stanza in header.stanzas where stanza.type == "X25519" {
                guard stanza.arguments.count == 1, let share = Base64.decodeUnpadded(stanza.arguments[0].utf8), share.count == 32 else {
                    throw .age(.header("malformed X25519 stanza (expected one argument: an unpadded base64 32-byte share)"), file: nil)
                }
                guard stanza.body.count == 32 else { throw .age(.header("malformed X25519 stanza (the body is not 32 bytes)"), file: nil) }
                let shared: SecretBytes
                do throws(CryptoError) { shared = try X25519.sharedSecret(identity, share) } catch {
                    if error == .weakPublicKey { throw .age(.header("an X25519 stanza with a share of small order"), file: nil) }
                    throw .crypto(error)
                }
                let wrapKey = try crypto { () throws(CryptoError) in try HKDF.sha256(ikm: shared, salt: share + ownKey, info: x25519Info, length: 32) }
                if let fileKey = try? ChaCha20Poly1305.openSecret(stanza.body, key: wrapKey, nonce: zeroNonce) { return fileKey }
            }
        }
        if let passphrase, header.stanzas.count == 1, let stanza = header.stanzas.first, stanza.type == "scrypt" {
            guard stanza.arguments.count == 2, let salt = Base64.decodeUnpadded(stanza.arguments[0].utf8), salt.count == 16 else {
                throw .age(.header("malformed scrypt stanza (expected an unpadded base64 16-byte salt and a work factor)"), file: nil)
            }
            let factor = Array(stanza.arguments[1].utf8)
            guard let first = factor.first, first != UInt8(ascii: "0"), factor.count <= 2,
                  factor.allSatisfy({ (0x30...0x39).contains($0) }), let logN = Int(stanza.arguments[1]) else {
                throw .age(.header("malformed scrypt work factor (expected a decimal number without leading zeros)"), file: nil)
            }
            guard logN <= maximumWorkFactor else {
                throw .age(.header("scrypt work factor \(logN) is above the limit of \(maximumWorkFactor)"), file: nil)
            }
            guard stanza.body.count == 32 else { throw .age(.header("malformed scrypt stanza (the body is not 32 bytes)"), file: nil) }
            let pass = try passphrase()
            let key = try crypto { () throws(CryptoError) in
                try PasswordHash.scrypt(length: 32, passphrase: pass, salt: scryptLabel + salt, logN: logN, r: 8, p: 1)
            }
            if let fileKey = try? ChaCha20Poly1305.openSecret(stanza.body, key: key, nonce: zeroNonce) { return fileKey }
        }
        throw .age(.noIdentityMatched(stanzaTypes: types), file: nil)
    }

    // MARK: Encryption

    /// Encrypts what `input` holds to `recipients` (X25519 ones, or one passphrase), handing the
    /// age file to `output` piece by piece; ASCII-armored when `armor`.
    public static func encrypt(_ input: AgeInput, to recipients: [AgeRecipient], armor: Bool,
                               output: (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) {
        _ = try encrypt(input, to: recipients, extraStanzas: [], armor: armor, output: output)
    }

    /// Encrypts as ``encrypt(_:to:armor:output:)``, adding `extraStanzas` after the recipients'
    /// (stanzas of types age's identities skip, covered by the header's code); returns the file
    /// key, for a caller to check what it made (``decrypt(_:armored:fileKey:output:)``).
    static func encrypt(_ input: AgeInput, to recipients: [AgeRecipient], extraStanzas: [AgeStanza], armor: Bool,
                        output: (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) -> SecretBytes {
        guard !recipients.isEmpty else { throw .invalidAgeRecipients(reason: "an age file needs at least one recipient") }
        var encoder = armor ? AgeArmor.Encoder() : nil
        func emit(_ bytes: [UInt8], count: Int? = nil) throws(AvaultError) {
            let n = count ?? bytes.count
            if encoder != nil {
                let out = withRaw(bytes) { b in encoder!.encode(UnsafeRawBufferPointer(rebasing: b[0..<n])) }
                try withRaw(out) { b throws(AvaultError) in try output(b) }
            } else {
                try withRaw(bytes) { b throws(AvaultError) in try output(UnsafeRawBufferPointer(rebasing: b[0..<n])) }
            }
        }

        let fileKey = SecretBytes.random(count: 16)
        var stanzas: [AgeStanza] = []
        for recipient in recipients {
            switch recipient {
            case .x25519(let publicKey):
                guard publicKey.count == 32 else { throw .invalidAgeRecipients(reason: "an X25519 recipient is 32 bytes") }
                let ephemeral = X25519.generateSecret()
                let share = try crypto { () throws(CryptoError) in try X25519.publicKey(of: ephemeral) }
                let shared: SecretBytes
                do throws(CryptoError) { shared = try X25519.sharedSecret(ephemeral, publicKey) } catch {
                    if error == .weakPublicKey { throw .invalidAgeRecipients(reason: "a recipient's public key is of small order: not a real recipient") }
                    throw .crypto(error)
                }
                let wrapKey = try crypto { () throws(CryptoError) in try HKDF.sha256(ikm: shared, salt: share + publicKey, info: x25519Info, length: 32) }
                stanzas.append(AgeStanza(type: "X25519", arguments: [Base64.encodeUnpadded(share)], body: try wrap(fileKey, wrapKey)))
            case .passphrase(let pass, let logN):
                guard recipients.count == 1 else { throw .invalidAgeRecipients(reason: "a passphrase cannot be combined with other recipients (age's rule)") }
                guard (1...maximumWorkFactor).contains(logN) else { throw .invalidAgeRecipients(reason: "the scrypt work factor must be 1 to \(maximumWorkFactor)") }
                let salt = SecureRandom.bytes(count: 16)
                let key = try crypto { () throws(CryptoError) in
                    try PasswordHash.scrypt(length: 32, passphrase: pass, salt: scryptLabel + salt, logN: logN, r: 8, p: 1)
                }
                stanzas.append(AgeStanza(type: "scrypt", arguments: [Base64.encodeUnpadded(salt), String(logN)], body: try wrap(fileKey, key)))
            }
        }
        var header = AgeHeader(stanzas: stanzas + extraStanzas, mac: [])
        let headerKey = try crypto { () throws(CryptoError) in try HKDF.sha256(ikm: fileKey, salt: [UInt8](), info: Array("header".utf8), length: 32) }
        header.mac = try crypto { () throws(CryptoError) in try HMACSHA256.authenticate(header.bytesWithoutMAC(), key: headerKey) }
        let nonce = SecureRandom.bytes(count: 16)
        try emit(header.serialized() + nonce)

        let payloadKey = try crypto { () throws(CryptoError) in try HKDF.sha256(ikm: fileKey, salt: nonce, info: Array("payload".utf8), length: 32) }
        let reader = AgeReader(input)
        var counter: UInt64 = 0
        var current = try reader.read(chunkSize)
        var sealed = [UInt8](repeating: 0, count: chunkSize + ChaCha20Poly1305.tagSize)
        while true {
            let next = current.count == chunkSize ? try reader.read(chunkSize) : []
            let last = next.isEmpty
            let n = try crypto { () throws(CryptoError) in
                try withRaw(current) { p throws(CryptoError) in
                    try withRawMutable(&sealed) { s throws(CryptoError) in
                        try ChaCha20Poly1305.seal(p, into: s, key: payloadKey, nonce: chunkNonce(counter, last: last))
                    }
                }
            }
            try emit(sealed, count: n)
            wipe(&current)
            if last { break }
            current = next
            counter += 1
        }
        if encoder != nil {
            let tail = encoder!.finish()
            try withRaw(tail) { b throws(AvaultError) in try output(b) }
        }
        return fileKey
    }

    static func wrap(_ fileKey: SecretBytes, _ key: SecretBytes) throws(AvaultError) -> [UInt8] {
        try crypto { () throws(CryptoError) in
            try fileKey.withUnsafeBytes { f in Result { () throws(CryptoError) in try ChaCha20Poly1305.seal(f, key: key, nonce: zeroNonce) } }.get()
        }
    }

    static func crypto<T>(_ body: () throws(CryptoError) -> T) throws(AvaultError) -> T {
        do throws(CryptoError) { return try body() } catch { throw .crypto(error) }
    }
}

/// One input, then another.
final class ChainedInput: AgeInput {
    let first: AgeInput
    let second: AgeInput?
    var firstDone = false
    init(_ first: AgeInput, _ second: AgeInput?) { self.first = first; self.second = second }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int {
        if !firstDone {
            let n = try first.read(into: buffer)
            if n > 0 { return n }
            firstDone = true
        }
        return try second?.read(into: buffer) ?? 0
    }
}

/// `withUnsafeBytes` with a typed error.
@inline(__always)
func withRaw<T, E: Error>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
    try bytes.withUnsafeBytes { raw in Result { () throws(E) in try body(raw) } }.get()
}

/// `withUnsafeMutableBytes` with a typed error.
@inline(__always)
func withRawMutable<T, E: Error>(_ bytes: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(E) -> T) throws(E) -> T {
    try bytes.withUnsafeMutableBytes { raw in Result { () throws(E) in try body(raw) } }.get()
}
