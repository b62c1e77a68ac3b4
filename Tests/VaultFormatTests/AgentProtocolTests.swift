import Foundation
import Testing
import VaultCrypto
@testable import VaultFormat

/// The agent protocol (formats.md §9): fixed layouts, strict parsing, every parse serialises
/// back to the same bytes, and keys travel in secret memory.
@Suite struct AgentProtocolTests {
    static let kdf = AgentKDF(salt: (0..<16).map { UInt8($0) }, opsLimit: 2, memLimit: 67_108_864)
    static let newKDF = AgentKDF(salt: (0..<16).map { UInt8(255 - $0) }, opsLimit: 3, memLimit: 268_435_456)
    static let key = SecretBytes(copying: (0..<32).map { UInt8($0 &* 7) })
    static let vaultID = "0123456789abcdef0f1e2d3c4b5a6978"

    static let requests: [AgentRequest] = [
        .unlockKey(keyring: "/home/ada/.config/avault/keyring", kdf: kdf),
        .status,
        .stop,
        .replace(keyring: "/k", old: kdf, new: newKDF, key: key),
        .entriesKey(namingKey: key, vaultID: vaultID),
    ]
    static let responses: [AgentResponse] = [
        .key(key), .refused(.otherKeyring), .refused(.staleKey), .refused(.badRequest),
        .status(AgentStatus(pid: 4242, keyring: "/home/ada/ring é", idleTimeout: 900, remaining: 17)),
        .done,
    ]
    static let handoff = AgentHandoff(keyring: "/r", kdf: kdf, key: key, idleTimeout: 86_400, socket: "/run/user/1000/avault/agent.sock")

    /// The frame's bytes, and its body (without the length prefix).
    static func split(_ frame: SecretBytes) -> (all: [UInt8], body: [UInt8]) {
        let all = frame.withUnsafeBytes { Array($0) }
        return (all, Array(all.dropFirst(4)))
    }

    @Test func requestsRoundTripByteForByte() throws {
        for request in Self.requests {
            let (all, body) = Self.split(request.frame())
            #expect(try AgentProtocol.bodyLength(prefix: Array(all.prefix(4))) == body.count)
            #expect(body.starts(with: Array("AVAG".utf8) + [1]))
            let parsed = try body.withUnsafeBytes { try AgentRequest(body: $0) }
            #expect(parsed == request)
            #expect(Self.split(parsed.frame()).all == all)
        }
    }

    @Test func answersAndTheHandoffRoundTripByteForByte() throws {
        for response in Self.responses {
            let (all, body) = Self.split(response.frame())
            let parsed = try body.withUnsafeBytes { try AgentResponse(body: $0) }
            #expect(parsed == response)
            #expect(Self.split(parsed.frame()).all == all)
        }
        let (all, body) = Self.split(Self.handoff.frame())
        let parsed = try body.withUnsafeBytes { try AgentHandoff(body: $0) }
        #expect(parsed == Self.handoff)
        #expect(Self.split(parsed.frame()).all == all)
    }

    /// The layout of docs/formats.md §9, written out by hand.
    @Test func theUnlockKeyRequestIsTheDocumentedBytes() throws {
        let (all, _) = Self.split(AgentRequest.unlockKey(keyring: "/k", kdf: Self.kdf).frame())
        let body: [UInt8] = Array("AVAG".utf8) + [1, 0x01] + [0, 2] + Array("/k".utf8) + Self.kdf.salt
            + [0, 0, 0, 0, 0, 0, 0, 2] + [0, 0, 0, 0, 4, 0, 0, 0]
        #expect(all == [0, 0, 0, UInt8(body.count)] + body)
        let (key, _) = Self.split(AgentResponse.key(Self.key).frame())
        #expect(key == [0, 0, 0, 38] + Array("AVAG".utf8) + [1, 0x81] + Self.key.withUnsafeBytes { Array($0) })
    }

    /// The entries-key request: the naming key, then the vault id as its 32 ASCII hex digits.
    @Test func theEntriesKeyRequestIsTheDocumentedBytes() throws {
        let (all, _) = Self.split(AgentRequest.entriesKey(namingKey: Self.key, vaultID: Self.vaultID).frame())
        let body: [UInt8] = Array("AVAG".utf8) + [1, 0x06] + Self.key.withUnsafeBytes { Array($0) } + Array(Self.vaultID.utf8)
        #expect(all == [0, 0, 0, UInt8(body.count)] + body)
    }

    /// A vault id is what a config's `id:` line holds: 32 lowercase hex digits, nothing else.
    @Test(arguments: ["0123456789ABCDEF0F1E2D3C4B5A6978", "0123456789abcdef0f1e2d3c4b5a697g", "0123456789abcdef0f1e2d3c4b5a697 ",
                      "0123456789abcdef0f1e2d3c4b5a697\0"])
    func entriesKeyVaultIDsAreLowercaseHex(_ id: String) throws {
        let body = Array("AVAG".utf8) + [1, 0x06] + Self.key.withUnsafeBytes { Array($0) } + Array(id.utf8)
        #expect(id.utf8.count == 32)
        #expect(throws: FormatError.self) { try body.withUnsafeBytes { try AgentRequest(body: $0) } }
    }

    /// Every shorter or longer body is refused, as is any other version, type or refusal.
    @Test func everyTruncationAndExtensionIsRefused() throws {
        var bodies = Self.requests.map { Self.split($0.frame()).body }
        bodies += Self.responses.map { Self.split($0.frame()).body }
        for body in bodies {
            for n in 0..<body.count {
                let short = Array(body.prefix(n))
                #expect((try? short.withUnsafeBytes { try AgentRequest(body: $0) }) == nil)
                #expect((try? short.withUnsafeBytes { try AgentResponse(body: $0) }) == nil)
            }
            let long = body + [0]
            #expect((try? long.withUnsafeBytes { try AgentRequest(body: $0) }) == nil)
            #expect((try? long.withUnsafeBytes { try AgentResponse(body: $0) }) == nil)
        }
        let status = Self.split(AgentRequest.status.frame()).body
        for (index, value) in [(0, UInt8(ascii: "a")), (4, 2), (4, 0), (5, 0x07), (5, 0x80), (5, 0x02 | 0x80)] {
            var changed = status
            changed[index] = value
            #expect((try? changed.withUnsafeBytes { try AgentRequest(body: $0) }) == nil, "byte \(index) = \(value)")
        }
        var refusal = Self.split(AgentResponse.refused(.staleKey).frame()).body
        refusal[6] = 4
        #expect((try? refusal.withUnsafeBytes { try AgentResponse(body: $0) }) == nil)
        // A request is not an answer, an answer not a request, neither a handoff.
        #expect((try? status.withUnsafeBytes { try AgentResponse(body: $0) }) == nil)
        let done = Self.split(AgentResponse.done.frame()).body
        #expect((try? done.withUnsafeBytes { try AgentRequest(body: $0) }) == nil)
        #expect((try? status.withUnsafeBytes { try AgentHandoff(body: $0) }) == nil)
    }

    @Test(arguments: [
        [UInt8](), Array("k".utf8), Array("/a\0b".utf8), [0x2F, 0xFF, 0xFE], Array(("/" + String(repeating: "a", count: 1024)).utf8),
    ])
    func pathsMustBeAbsoluteUTF8WithoutNULAndShort(_ path: [UInt8]) throws {
        let body = Array("AVAG".utf8) + [1, 0x01] + [UInt8(path.count >> 8), UInt8(path.count & 0xFF)] + path
            + Self.kdf.salt + [UInt8](repeating: 0, count: 16)
        #expect(throws: FormatError.self) { try body.withUnsafeBytes { try AgentRequest(body: $0) } }
    }

    @Test func frameLengthsAreBounded() throws {
        #expect(try AgentProtocol.bodyLength(prefix: [0, 0, 0, 6]) == 6)
        #expect(try AgentProtocol.bodyLength(prefix: [0, 0, 0x10, 0]) == 4096)
        for prefix: [UInt8] in [[0, 0, 0, 5], [0, 0, 0x10, 1], [0xFF, 0xFF, 0xFF, 0xFF], [0, 0, 6]] {
            #expect(throws: FormatError.self) { try AgentProtocol.bodyLength(prefix: prefix) }
        }
    }

    @Test func statusAndHandoffTimeoutsAreInRange() throws {
        var status = Self.split(AgentResponse.status(AgentStatus(pid: 1, keyring: "/k", idleTimeout: 10, remaining: 10)).frame()).body
        status[status.count - 1] = 11 // remaining above the timeout
        #expect((try? status.withUnsafeBytes { try AgentResponse(body: $0) }) == nil)
        var handoff = Self.split(Self.handoff.frame()).body
        let at = 6 + (2 + 2) + 32 + 32 // magic, version and type; the path "/r"; the kdf; the key
        handoff.replaceSubrange(at..<(at + 4), with: [0, 1, 0x51, 0x81]) // 86401 s
        #expect((try? handoff.withUnsafeBytes { try AgentHandoff(body: $0) }) == nil)
        handoff.replaceSubrange(at..<(at + 4), with: [0, 0, 0, 0])
        #expect((try? handoff.withUnsafeBytes { try AgentHandoff(body: $0) }) == nil)
    }

    /// Random single-byte changes: refused, or a message that serialises back to the changed bytes.
    @Test func mutationsParseStrictlyOrNotAtAll() throws {
        var generator = SystemRandomNumberGenerator()
        let bodies = Self.requests.map { Self.split($0.frame()).body } + Self.responses.map { Self.split($0.frame()).body }
            + [Self.split(Self.handoff.frame()).body]
        for _ in 0..<3000 {
            var body = bodies.randomElement(using: &generator)!
            body[Int.random(in: 0..<body.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            #expect(throws: Never.self) { try FuzzChecks.agentMessage(body) }
        }
    }

    @Test func errorsNeverQuoteTheMessage() throws {
        var body = Self.split(AgentResponse.key(Self.key).frame()).body
        body.append(0x41)
        do {
            _ = try body.withUnsafeBytes { try AgentResponse(body: $0) }
            Issue.record("a long key answer parsed")
        } catch {
            #expect("\(error)" == "malformed agent message: 1 bytes after the message")
        }
    }
}
