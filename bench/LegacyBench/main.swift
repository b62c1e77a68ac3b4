// Per-blob cost of decrypting small legacy v1 blobs through the library, for bench/legacy:
//   legacy-bench SIZE COUNT [decrypt]
// prints two numbers of nanoseconds per blob: SecuredField.decrypt of a parsed blob, and
// parse + decrypt of its text (with `decrypt`, the first only: what callgrind counts). The same
// SIZE-byte plaintext under 256 different IVs, COUNT blobs a round, best of 5 rounds.

import ArticleVault
import Glibc
import VaultCrypto
import VaultFormat

let args = CommandLine.arguments
let size = args.count > 1 ? Int(args[1])! : 400
let count = args.count > 2 ? Int(args[2])! : 100_000
let key = SecretBytes(copying: [UInt8](repeating: 0x2A, count: 32))
let plaintext = [UInt8](repeating: 0x61, count: size)
let blobs = try (0..<256).map { _ in try SecuredField.encryptV1(plaintext, key: key) }
let texts = blobs.map(\.text)

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) * 1e9 + Double(t.tv_nsec)
}

/// Best of 5 runs of `count` calls, in ns per call.
func best(_ body: (Int) throws -> Int) rethrows -> Double {
    var result = Double.infinity
    var sink = 0
    for _ in 0..<5 {
        let start = now()
        for i in 0..<count { sink &+= try body(i) }
        result = min(result, (now() - start) / Double(count))
    }
    if sink == 42 { print("") } // keep the work
    return result
}

let decrypt = try best { i in try SecuredField.decrypt(blobs[i & 255], key: key, context: "", legacy: .userOptIn).count }
if args.count > 3, args[3] == "decrypt" {
    print(Int(decrypt.rounded()))
} else {
    let parsed = try best { i in try SecuredField.decrypt(SecuredBlob(parsing: texts[i & 255]), key: key, context: "", legacy: .userOptIn).count }
    print(Int(decrypt.rounded()), Int(parsed.rounded()))
}
