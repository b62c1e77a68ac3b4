#!/usr/bin/env python3
"""Independent reference implementation of avault's `secured` blob formats (v1 and v2).

Written only from docs/formats.md (sections 1.1-1.5 and the B64 conventions), never from
avault's Swift sources. The cryptography comes from libraries nobody in this project wrote:

* v1 (AES-CBC + PKCS#7): PyCryptodome (`Crypto.Cipher.AES`, `Crypto.Util.Padding`), which has
  its own AES code, independent of OpenSSL (which avault uses).
* v2 (XChaCha20-Poly1305-IETF): PyNaCl's libsodium bindings.
* kid: Python's `hashlib.blake2b(digest_size=32)` (its own BLAKE2 code, not libsodium).

Only dependencies: `pip install pynacl pycryptodome`.

All sub-commands speak JSON; byte strings are lowercase hex. Outcomes of a decryption are
`{"outcome": "ok", "plaintext": HEX}`, `{"outcome": "fail"}` (well-formed blob that does not
decrypt: wrong key, wrong context, tampered) or `{"outcome": "malformed", "error": TEXT}`.

Sub-commands:
  encrypt-v1   stdin {"key", "plaintext", "iv"?}             -> {"blob"}
  decrypt-v1   stdin {"key", "blob"}                         -> outcome
  encrypt-v2   stdin {"key", "plaintext", "context", "nonce"?} -> {"blob"}
  decrypt-v2   stdin {"key", "blob", "context"}              -> outcome
  decrypt      stdin {"key", "blob", "context"?}             -> outcome (format detected, 1.1)
  parse        stdin {"blob"}                                -> {"format", pieces as hex} or malformed
  kid          stdin {"key"}                                 -> {"kid"}
  decrypt-batch stdin [ {...decrypt input...}, ... ]        -> [ outcome, ... ]
  gen-v1-cases N SEED   -> JSON list of v1 cases (valid, tampered, crafted padding, malformed)
  gen-v2-cases N SEED   -> JSON list of v2 cases (valid, tampered, wrong context/key, malformed)
  check-v1-cases        stdin [ {"key", "plaintext", "blob"} ] made by avault -> report
  check-v2-cases        stdin [ {"key", "plaintext", "context", "blob"} ] made by avault -> report
  check-vectors DIR     verify every DIR/*.txt vector file (formats.md 1.5) -> report
  self-test             sanity checks of this module against published vectors

A report is {"checked": N, "failures": [ ... ]}; the exit status is 0 when there are no
failures, 1 when there are, 2 for operational errors (bad arguments, missing directory).
"""

import base64
import binascii
import hashlib
import json
import os
import random
import re
import sys

try:
    from Crypto.Cipher import AES
    from Crypto.Util import Padding
    from nacl import bindings as sodium
except ImportError as error:  # pragma: no cover - CI installs them
    sys.stderr.write(
        "secured_reference.py: missing Python module (%s); run: pip install pynacl pycryptodome\n" % error
    )
    sys.exit(3)


class Malformed(Exception):
    """The blob does not have the structure formats.md requires."""


class DecryptionFailed(Exception):
    """A well-formed blob that does not decrypt (wrong key, wrong context, tampered)."""


# ---------------------------------------------------------------------------------------------
# Conventions: strict, canonical base64 (RFC 4648 section 4, padded, no whitespace).

_B64_ALPHABET = re.compile(r"\A[A-Za-z0-9+/]*={0,2}\Z")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64_strict(text: str) -> bytes:
    """Decode `text`, rejecting anything that does not re-encode to itself."""
    if not _B64_ALPHABET.match(text) or len(text) % 4 != 0:
        raise Malformed("not strict base64: %r" % text[:40])
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise Malformed("not base64: %s" % error)
    if b64(data) != text:
        raise Malformed("non-canonical base64: %r" % text[:40])
    return data


def _non_canonical(text: str) -> str:
    """`text` (canonical, ending in padding) with unused low bits set in its last data character."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    pad = len(text) - len(text.rstrip("="))
    assert pad in (1, 2)
    i = len(text) - pad - 1
    return text[:i] + alphabet[alphabet.index(text[i]) | 1] + text[i + 1:]


def unhex(text: str) -> bytes:
    return bytes.fromhex(text)


# ---------------------------------------------------------------------------------------------
# Section 1.1: telling the formats apart.

_KID = re.compile(r"\A[0-9a-f]{16}\Z")
_VERSION = re.compile(r"\Av[0-9]+\Z")


def parse(blob: str):
    """Returns ("v1", ciphertext, iv) or ("v2", kid, nonce, sealed); raises Malformed."""
    pieces = blob.split(";")
    if pieces[0] == "v2":
        if len(pieces) != 4:
            raise Malformed("v2 blob must have exactly 4 pieces, has %d" % len(pieces))
        kid, nonce_text, sealed_text = pieces[1], pieces[2], pieces[3]
        if not _KID.match(kid):
            raise Malformed("kid must be 16 lowercase hex digits")
        nonce = b64_strict(nonce_text)
        if len(nonce) != 24:
            raise Malformed("nonce must be 24 bytes, is %d" % len(nonce))
        sealed = b64_strict(sealed_text)
        if len(sealed) < 16:
            raise Malformed("ciphertext+tag must be at least 16 bytes, is %d" % len(sealed))
        return ("v2", kid, nonce, sealed)
    if len(pieces) == 2:
        ciphertext = b64_strict(pieces[0])
        iv = b64_strict(pieces[1])
        if len(iv) != 16:
            raise Malformed("iv must be 16 bytes, is %d" % len(iv))
        if len(ciphertext) == 0 or len(ciphertext) % 16 != 0:
            raise Malformed("ciphertext must be a non-empty multiple of 16 bytes, is %d" % len(ciphertext))
        return ("v1", ciphertext, iv)
    if _VERSION.match(pieces[0]):
        raise Malformed("unsupported version %s" % pieces[0])
    raise Malformed("not a v1 or v2 blob (%d pieces)" % len(pieces))


# ---------------------------------------------------------------------------------------------
# Section 1.2: v1, AES-CBC + PKCS#7 (PyCryptodome).


def _check_v1_key(key: bytes):
    if len(key) not in (16, 24, 32):
        raise ValueError("a v1 key is 16, 24 or 32 bytes, not %d" % len(key))


def v1_encrypt(plaintext: bytes, key: bytes, iv: bytes) -> str:
    _check_v1_key(key)
    assert len(iv) == 16
    ciphertext = AES.new(key, AES.MODE_CBC, iv=iv).encrypt(Padding.pad(plaintext, 16, style="pkcs7"))
    return b64(ciphertext) + ";" + b64(iv)


def v1_raw_encrypt(padded: bytes, key: bytes, iv: bytes) -> str:
    """Encrypts already block-aligned data as is (for crafted padding cases)."""
    ciphertext = AES.new(key, AES.MODE_CBC, iv=iv).encrypt(padded)
    return b64(ciphertext) + ";" + b64(iv)


def v1_decrypt_parts(ciphertext: bytes, iv: bytes, key: bytes) -> bytes:
    _check_v1_key(key)
    padded = AES.new(key, AES.MODE_CBC, iv=iv).decrypt(ciphertext)
    try:
        return Padding.unpad(padded, 16, style="pkcs7")
    except ValueError:
        raise DecryptionFailed("bad padding")


def v1_decrypt(blob: str, key: bytes) -> bytes:
    parsed = parse(blob)
    if parsed[0] != "v1":
        raise Malformed("not a v1 blob")
    return v1_decrypt_parts(parsed[1], parsed[2], key)


# ---------------------------------------------------------------------------------------------
# Sections 1.3 and 1.4: v2, XChaCha20-Poly1305-IETF (libsodium via PyNaCl), kid = BLAKE2b-256.


def kid_of(key: bytes) -> str:
    return hashlib.blake2b(key, digest_size=32).digest()[:8].hex()


def v2_ad(kid: str, context: str) -> bytes:
    return ("avault/secured/v2;" + kid + ";" + context).encode("utf-8")


def v2_encrypt(plaintext: bytes, key: bytes, context: str, nonce: bytes) -> str:
    if len(key) != 32:
        raise ValueError("a v2 key is 32 bytes, not %d" % len(key))
    assert len(nonce) == 24
    kid = kid_of(key)
    sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, v2_ad(kid, context), nonce, key)
    return "v2;" + kid + ";" + b64(nonce) + ";" + b64(sealed)


def v2_decrypt_parts(kid: str, nonce: bytes, sealed: bytes, key: bytes, context: str) -> bytes:
    # 1.3: first compare the key's own kid with the blob's, then open the AEAD.
    if len(key) != 32 or kid_of(key) != kid:
        raise DecryptionFailed("kid mismatch")
    try:
        return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, v2_ad(kid, context), nonce, key)
    except Exception:  # nacl.exceptions.CryptoError
        raise DecryptionFailed("authentication failed")


def v2_decrypt(blob: str, key: bytes, context: str) -> bytes:
    parsed = parse(blob)
    if parsed[0] != "v2":
        raise Malformed("not a v2 blob")
    return v2_decrypt_parts(parsed[1], parsed[2], parsed[3], key, context)


def decrypt_any(blob: str, key: bytes, context: str = "") -> bytes:
    parsed = parse(blob)
    if parsed[0] == "v1":
        return v1_decrypt_parts(parsed[1], parsed[2], key)
    return v2_decrypt_parts(parsed[1], parsed[2], parsed[3], key, context)


def outcome(function, *args):
    try:
        return {"outcome": "ok", "plaintext": function(*args).hex()}
    except Malformed as error:
        return {"outcome": "malformed", "error": str(error)}
    except DecryptionFailed:
        return {"outcome": "fail"}


# ---------------------------------------------------------------------------------------------
# Random case generation (deterministic for a given seed).


def _flip_bit(data: bytes, rng: random.Random, start: int = 0, end: int = None) -> bytes:
    end = len(data) if end is None else end
    index = rng.randrange(start, end)
    out = bytearray(data)
    out[index] ^= 1 << rng.randrange(8)
    return bytes(out)


def _v1_expected(ciphertext: bytes, iv: bytes, key: bytes):
    """What PyCryptodome says about a (possibly tampered) v1 blob: plaintext hex or "fail"."""
    try:
        return v1_decrypt_parts(ciphertext, iv, key).hex()
    except DecryptionFailed:
        return "fail"


def gen_v1_cases(count: int, seed: int):
    """`count` valid cases, each followed by one tampered variant, plus crafted and malformed ones.

    Every case: {"id", "kind", "key", "blob", "plaintext" (the original), "expected"} where
    expected is plaintext hex, "fail" or "malformed".
    """
    rng = random.Random(seed)
    rbytes = lambda n: bytes(rng.getrandbits(8) for _ in range(n))
    cases = []

    def add(kind, key, blob, plaintext, expected):
        cases.append({"id": len(cases), "kind": kind, "key": key.hex(), "blob": blob,
                      "plaintext": plaintext.hex(), "expected": expected})

    tamper_kinds = ["flip-ciphertext", "flip-iv", "flip-penultimate", "xor-pad-byte", "truncate-block",
                    "drop-first-block", "wrong-key", "wrong-key-size", "swap-blocks"]
    for _ in range(count):
        key = rbytes(rng.choice((16, 24, 32)))
        plaintext = rbytes(rng.randint(0, 100))
        iv = rbytes(16)
        blob = v1_encrypt(plaintext, key, iv)
        add("valid", key, blob, plaintext, plaintext.hex())

        ciphertext = AES.new(key, AES.MODE_CBC, iv=iv).encrypt(Padding.pad(plaintext, 16))
        blocks = len(ciphertext) // 16
        kind = rng.choice(tamper_kinds)
        if kind in ("truncate-block", "drop-first-block", "swap-blocks") and blocks < 2:
            kind = "flip-ciphertext"
        t_key, t_ct, t_iv = key, ciphertext, iv
        if kind == "flip-ciphertext":
            t_ct = _flip_bit(ciphertext, rng)
        elif kind == "flip-iv":
            t_iv = _flip_bit(iv, rng)
        elif kind in ("flip-penultimate", "xor-pad-byte"):
            # Changes the last plaintext byte (the padding length) in a chosen way.
            target = bytearray(t_iv if blocks == 1 else ciphertext[-32:-16])
            if kind == "flip-penultimate":
                target[rng.randrange(16)] ^= 1 << rng.randrange(8)
            else:
                target[15] ^= rng.randrange(1, 256)
            if blocks == 1:
                t_iv = bytes(target)
            else:
                t_ct = ciphertext[:-32] + bytes(target) + ciphertext[-16:]
        elif kind == "truncate-block":
            t_ct = ciphertext[:-16]
        elif kind == "drop-first-block":
            t_ct, t_iv = ciphertext[16:], ciphertext[:16]  # still decrypts: CBC self-synchronises
        elif kind == "swap-blocks":
            i = rng.randrange(blocks - 1)
            t_ct = ciphertext[:16 * i] + ciphertext[16 * (i + 1):16 * (i + 2)] + ciphertext[16 * i:16 * (i + 1)] + ciphertext[16 * (i + 2):]
        elif kind == "wrong-key":
            t_key = rbytes(len(key))
        elif kind == "wrong-key-size":
            t_key = rbytes(rng.choice([n for n in (16, 24, 32) if n != len(key)]))
        add(kind, t_key, b64(t_ct) + ";" + b64(t_iv), plaintext, _v1_expected(t_ct, t_iv, t_key))

    # Crafted final blocks: every padding byte value that matters, and inconsistent padding.
    crafted = []
    for n in list(range(0, 18)) + [0x20, 0x80, 0xFF]:
        crafted.append(("pad-byte-%d" % n, bytes([n]) * 16))       # block of n repeated
        crafted.append(("last-byte-%d" % n, bytes(15) + bytes([n])))  # only the last byte is n
    for n in range(2, 17):
        block = bytearray([n]) * 16
        block[16 - n] ^= 1                                       # first padding byte wrong
        crafted.append(("bad-first-pad-%d" % n, bytes(block)))
        block = bytearray([n]) * 16
        block[16 - n + (n - 1) // 2] ^= 0x40                     # a middle padding byte wrong
        crafted.append(("bad-pad-%d" % n, bytes(block)))
    for name, last in crafted:
        key = rbytes(rng.choice((16, 24, 32)))
        iv = rbytes(16)
        prefix = rbytes(16 * rng.randint(0, 2))
        padded = prefix + last
        blob = v1_raw_encrypt(padded, key, iv)
        try:
            expected = Padding.unpad(padded, 16).hex()
        except ValueError:
            expected = "fail"
        add("crafted-" + name, key, blob, padded, expected)

    # Malformed v1 blobs (structure, base64 strictness): both implementations must refuse them.
    key = rbytes(16)
    iv = rbytes(16)
    good_ct = AES.new(key, AES.MODE_CBC, iv=iv).encrypt(Padding.pad(b"malformed cases", 16))
    good = b64(good_ct) + ";" + b64(iv)
    ct_text, iv_text = good.split(";")
    malformed = {
        "iv-15-bytes": b64(good_ct) + ";" + b64(iv[:15]),
        "iv-17-bytes": b64(good_ct) + ";" + b64(iv + b"\0"),
        "ct-15-bytes": b64(good_ct[:15]) + ";" + iv_text,
        "ct-17-bytes": b64(good_ct + b"\0") + ";" + iv_text,
        "ct-empty": ";" + iv_text,
        "iv-empty": ct_text + ";",
        "three-pieces": good + ";",
        "one-piece": ct_text,
        "leading-space": " " + good,
        "trailing-space": good + " ",
        "newline-inside": ct_text + "\n;" + iv_text,
        "trailing-newline": good + "\n",
        "urlsafe-alphabet": "-_" + ct_text[2:] + ";" + iv_text,
        "missing-padding": ct_text + ";" + iv_text.rstrip("="),
        "non-canonical-iv": ct_text + ";" + _non_canonical(iv_text),
        "non-canonical-ct": _non_canonical(ct_text) + ";" + iv_text,
        "inner-whitespace": ct_text[:4] + " " + ct_text[4:] + ";" + iv_text,
        "v1-prefix": "v1;" + good,
        "v3-two-pieces": "v3;" + iv_text,
        "padding-inside": ct_text[:-4] + "=" + ct_text[-3:] + ";" + iv_text,
        # Non-ASCII: same UTF-8 length as the valid text (2 base64 characters -> one 2-byte
        # character), fullwidth letters, a combining mark fused to the separator.
        "non-ascii-in-base64": "\u00e9" + ct_text[2:] + ";" + iv_text,
        "fullwidth-base64": "\uff21" + ct_text[1:] + ";" + iv_text,
        "combining-after-separator": ct_text + ";\u0301" + iv_text,
        "fullwidth-semicolon": ct_text + "\uff1b" + iv_text,
    }
    for name, blob in malformed.items():
        try:
            parse(blob)
            expected = "unexpectedly-well-formed"
        except Malformed:
            expected = "malformed"
        add("malformed-" + name, key, blob, b"", expected)

    # 1.1's parenthetical: a first piece of "v" + digits is still v1 when it is valid v1 base64.
    v_ct = "v" + "1" * 63  # 64 base64 characters = 48 bytes, canonical (no padding)
    v_blob = v_ct + ";" + iv_text
    add("v-digits-is-v1", key, v_blob, b"", _v1_expected(b64_strict(v_ct), iv, key))
    return cases


def gen_v2_cases(count: int, seed: int):
    """`count` valid cases, each followed by one tampered/misused variant, plus malformed ones.

    Every case: {"id", "kind", "key", "context", "blob", "plaintext", "expected"}.
    """
    rng = random.Random(seed)
    rbytes = lambda n: bytes(rng.getrandbits(8) for _ in range(n))
    contexts = ["", "https://example.org/a/1", "https://example.org/a/1/", "HTTPS://EXAMPLE.ORG/A/1",
                " https://example.org/a/1", "ctx;with;semicolons", "caf\u00e9 \u2014 \u65e5\u672c",
                "cafe\u0301", "-starts-with-dash", "--context", "line\nbreak", "tab\there", "\U0001F512"]
    cases = []

    def add(kind, key, context, blob, plaintext, expected):
        cases.append({"id": len(cases), "kind": kind, "key": key.hex(), "context": context, "blob": blob,
                      "plaintext": plaintext.hex(), "expected": expected})

    kinds = ["flip-nonce", "flip-ciphertext", "flip-tag", "truncate-tag", "wrong-context", "context-prefix",
             "context-extended", "wrong-key", "kid-rewritten", "kid-of-wrong-key", "swap-nonce", "append-byte"]
    for _ in range(count):
        key = rbytes(32)
        context = rng.choice(contexts) if rng.random() < 0.5 else "https://news.example/%d" % rng.randrange(10**6)
        plaintext = rbytes(rng.randint(0, 100))
        nonce = rbytes(24)
        blob = v2_encrypt(plaintext, key, context, nonce)
        add("valid", key, context, blob, plaintext, plaintext.hex())

        _, kid, _, sealed = parse(blob)
        kind = rng.choice(kinds)
        t_key, t_ctx, t_kid, t_nonce, t_sealed = key, context, kid, nonce, sealed
        if kind == "flip-nonce":
            t_nonce = _flip_bit(nonce, rng)
        elif kind == "flip-ciphertext":
            t_sealed = _flip_bit(sealed, rng, 0, len(sealed) - 16) if len(sealed) > 16 else _flip_bit(sealed, rng)
        elif kind == "flip-tag":
            t_sealed = _flip_bit(sealed, rng, len(sealed) - 16)
        elif kind == "truncate-tag":
            t_sealed = sealed[:-1] if len(sealed) > 16 else sealed[1:] + b"\0"
        elif kind == "wrong-context":
            t_ctx = rng.choice([c for c in contexts if c != context])
        elif kind == "context-prefix":
            t_ctx = context[:-1] if context else "x"
        elif kind == "context-extended":
            t_ctx = context + rng.choice([" ", "/", "\n", ";", "\u00e9"])
        elif kind == "wrong-key":
            t_key = rbytes(32)
        elif kind == "kid-rewritten":
            t_kid = "%016x" % (int(kid, 16) ^ (1 << rng.randrange(64)))
        elif kind == "kid-of-wrong-key":
            t_key = rbytes(32)
            t_kid = kid_of(t_key)  # passes the kid check, must fail the AEAD
        elif kind == "swap-nonce":
            t_nonce = rbytes(24)
        elif kind == "append-byte":
            t_sealed = sealed + rbytes(1)
        t_blob = "v2;" + t_kid + ";" + b64(t_nonce) + ";" + b64(t_sealed)
        result = outcome(v2_decrypt, t_blob, t_key, t_ctx)
        add(kind, t_key, t_ctx, t_blob, plaintext, result.get("plaintext", result["outcome"]))

    # 1.4: the context is used exactly as given, so canonically equivalent Unicode strings
    # (NFC vs NFD) and strings differing only in surrounding whitespace are different contexts.
    for made_with, read_with in (("caf\u00e9", "cafe\u0301"), ("cafe\u0301", "caf\u00e9"),
                                 ("\u212b", "\u00c5"), ("https://x.example/a", "https://x.example/a\n"),
                                 ("https://x.example/a", " https://x.example/a"), ("", " ")):
        key = rbytes(32)
        plaintext = rbytes(rng.randint(0, 40))
        blob = v2_encrypt(plaintext, key, made_with, rbytes(24))
        add("valid-unicode-context", key, made_with, blob, plaintext, plaintext.hex())
        add("equivalent-context", key, read_with, blob, plaintext, outcome(v2_decrypt, blob, key, read_with)["outcome"])

    key = rbytes(32)
    nonce = rbytes(24)
    good = v2_encrypt(b"malformed cases", key, "c", nonce)
    _, kid, nonce_text, sealed_text = good.split(";")
    malformed = {
        "kid-uppercase": "v2;" + kid.upper() + ";" + nonce_text + ";" + sealed_text if kid.upper() != kid else "v2;" + "A" * 16 + ";" + nonce_text + ";" + sealed_text,
        "kid-15-digits": "v2;" + kid[:15] + ";" + nonce_text + ";" + sealed_text,
        "kid-17-digits": "v2;" + kid + "0;" + nonce_text + ";" + sealed_text,
        "kid-non-hex": "v2;" + kid[:15] + "g;" + nonce_text + ";" + sealed_text,
        "nonce-12-bytes": "v2;" + kid + ";" + b64(nonce[:12]) + ";" + sealed_text,
        "nonce-23-bytes": "v2;" + kid + ";" + b64(nonce[:23]) + ";" + sealed_text,
        "sealed-15-bytes": "v2;" + kid + ";" + nonce_text + ";" + b64(rbytes(15)),
        "sealed-empty": "v2;" + kid + ";" + nonce_text + ";",
        "three-pieces": "v2;" + kid + ";" + nonce_text,
        "five-pieces": good + ";",
        "uppercase-V2": "V2;" + kid + ";" + nonce_text + ";" + sealed_text,
        "v3": "v3;" + kid + ";" + nonce_text + ";" + sealed_text,
        "trailing-space": good + " ",
        "leading-space": " " + good,
        "sealed-missing-padding": "v2;" + kid + ";" + nonce_text + ";" + sealed_text.rstrip("=") if sealed_text.endswith("=") else "v2;" + kid + ";" + nonce_text[:-1] + ";" + sealed_text,
        "sealed-whitespace": "v2;" + kid + ";" + nonce_text + ";" + sealed_text[:4] + "\n" + sealed_text[4:],
        "kid-fullwidth-digit": "v2;\uff10" + kid[1:] + ";" + nonce_text + ";" + sealed_text,
        "kid-arabic-indic-digit": "v2;\u0663" + kid[1:] + ";" + nonce_text + ";" + sealed_text,
        "fullwidth-v2": "v\uff12;" + kid + ";" + nonce_text + ";" + sealed_text,
        "combining-on-tag": "v2\u0301;" + kid + ";" + nonce_text + ";" + sealed_text,
        "non-ascii-in-nonce": "v2;" + kid + ";\u00e9" + nonce_text[2:] + ";" + sealed_text,
        "empty": "",
        "just-v2": "v2",
    }
    for name, blob in malformed.items():
        try:
            parse(blob)
            expected = "unexpectedly-well-formed"
        except Malformed:
            expected = "malformed"
        add("malformed-" + name, key, "c", blob, b"", expected)
    return cases


# ---------------------------------------------------------------------------------------------
# Checking blobs made by avault.


def check_v1_cases(cases):
    failures = []
    ivs = set()
    for case in cases:
        key, plaintext, blob = unhex(case["key"]), unhex(case["plaintext"]), case["blob"]
        label = case.get("id", len(ivs))
        try:
            kind, ciphertext, iv = parse(blob)
        except Malformed as error:
            failures.append({"id": label, "blob": blob, "problem": "malformed: %s" % error})
            continue
        if kind != "v1":
            failures.append({"id": label, "blob": blob, "problem": "not a v1 blob"})
            continue
        if len(ciphertext) != 16 * (len(plaintext) // 16 + 1):
            failures.append({"id": label, "blob": blob, "problem": "ciphertext length %d" % len(ciphertext)})
        if iv in ivs:
            failures.append({"id": label, "blob": blob, "problem": "IV reused"})
        ivs.add(iv)
        result = outcome(v1_decrypt_parts, ciphertext, iv, key)
        if result != {"outcome": "ok", "plaintext": plaintext.hex()}:
            failures.append({"id": label, "blob": blob, "problem": "PyCryptodome says %s" % result})
    return {"checked": len(cases), "failures": failures}


def check_v2_cases(cases):
    failures = []
    nonces = set()
    for case in cases:
        key, plaintext, blob, context = unhex(case["key"]), unhex(case["plaintext"]), case["blob"], case["context"]
        label = case.get("id", len(nonces))
        try:
            parsed = parse(blob)
        except Malformed as error:
            failures.append({"id": label, "blob": blob, "problem": "malformed: %s" % error})
            continue
        if parsed[0] != "v2":
            failures.append({"id": label, "blob": blob, "problem": "not a v2 blob"})
            continue
        _, kid, nonce, sealed = parsed
        if kid != kid_of(key):
            failures.append({"id": label, "blob": blob, "problem": "kid %s, expected %s" % (kid, kid_of(key))})
        if len(sealed) != len(plaintext) + 16:
            failures.append({"id": label, "blob": blob, "problem": "sealed length %d" % len(sealed)})
        if nonce in nonces:
            failures.append({"id": label, "blob": blob, "problem": "nonce reused"})
        nonces.add(nonce)
        result = outcome(v2_decrypt, blob, key, context)
        if result != {"outcome": "ok", "plaintext": plaintext.hex()}:
            failures.append({"id": label, "blob": blob, "problem": "PyNaCl says %s" % result})
        # Bound to the context and the key: a near-miss must fail.
        for wrong in (context + "x", context[:-1] if context else " ", context.upper() if context.upper() != context else context + "/"):
            result = outcome(v2_decrypt, blob, key, wrong)
            if result != {"outcome": "fail"}:
                failures.append({"id": label, "blob": blob, "problem": "context %r gives %s" % (wrong, result)})
        wrong_key = bytes([key[0] ^ 1]) + key[1:]
        result = outcome(v2_decrypt_parts, kid_of(wrong_key), nonce, sealed, wrong_key, context)
        if result != {"outcome": "fail"}:
            failures.append({"id": label, "blob": blob, "problem": "wrong key gives %s" % result})
    return {"checked": len(cases), "failures": failures}


# ---------------------------------------------------------------------------------------------
# Section 1.5: vector files.

_VECTOR_NAMES = ["key", "context", "nonce", "plaintext", "blob"]


def parse_vector_file(text: str):
    if text.endswith("\n"):
        text = text[:-1]
    lines = text.split("\n")
    if len(lines) != len(_VECTOR_NAMES):
        raise ValueError("expected %d lines, found %d" % (len(_VECTOR_NAMES), len(lines)))
    values = {}
    for expected_name, line in zip(_VECTOR_NAMES, lines):
        name, sep, value = line.partition(": ")
        if not sep:
            # 1.5 requires one space after the colon, even before an empty value: an editor
            # that strips trailing whitespace breaks "context: " lines, and this says so.
            raise ValueError("line %r is not `name: value` (one space after the colon)" % line)
        if name not in _VECTOR_NAMES:
            raise ValueError("unknown name %r" % name)
        if name != expected_name:
            raise ValueError("expected %r, found %r" % (expected_name, name))
        values[name] = value
    for name, size in (("key", 64), ("nonce", 48)):
        if not re.match(r"\A[0-9a-f]{%d}\Z" % size, values[name]):
            raise ValueError("%s must be %d lowercase hex digits" % (name, size))
    if not re.match(r"\A([0-9a-f]{2})*\Z", values["plaintext"]):
        raise ValueError("plaintext must be lowercase hex")
    return values


def check_vectors(directory: str):
    if not os.path.isdir(directory):
        raise FileNotFoundError("vector directory %s does not exist" % directory)
    names = sorted(n for n in os.listdir(directory) if n.endswith(".txt"))
    failures = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8")
            v = parse_vector_file(text)
            key, nonce, plaintext = unhex(v["key"]), unhex(v["nonce"]), unhex(v["plaintext"])
            made = v2_encrypt(plaintext, key, v["context"], nonce)
            if made != v["blob"]:
                failures.append({"file": name, "problem": "encrypting gives %s, file says %s" % (made, v["blob"])})
            result = outcome(v2_decrypt, v["blob"], key, v["context"])
            if result != {"outcome": "ok", "plaintext": plaintext.hex()}:
                failures.append({"file": name, "problem": "decrypting gives %s" % result})
        except Exception as error:
            failures.append({"file": name, "problem": "%s: %s" % (type(error).__name__, error)})
    return {"checked": len(names), "files": names, "failures": failures}


def read_vectors(directory: str):
    """The parsed vectors (for the Swift tests, which replay them through avault)."""
    out = []
    for name in sorted(n for n in os.listdir(directory) if n.endswith(".txt")):
        with open(os.path.join(directory, name), "rb") as handle:
            values = parse_vector_file(handle.read().decode("utf-8"))
        values["file"] = name
        out.append(values)
    return out


# ---------------------------------------------------------------------------------------------
# Self-test against published vectors, so a broken reference cannot silently agree with avault.


def self_test():
    failures = []
    # NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt), first block.
    key = unhex("2b7e151628aed2a6abf7158809cf4f3c")
    iv = unhex("000102030405060708090a0b0c0d0e0f")
    block = AES.new(key, AES.MODE_CBC, iv=iv).encrypt(unhex("6bc1bee22e409f96e93d7e117393172a"))
    if block.hex() != "7649abac8119b246cee98e9b12e9197d":
        failures.append("AES-CBC NIST vector")
    # BLAKE2b-256 of the empty string.
    if hashlib.blake2b(b"", digest_size=32).hexdigest() != "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8":
        failures.append("BLAKE2b-256 empty")
    # draft-irtf-cfrg-xchacha-03 A.3.1.
    pt = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
          b"sunscreen would be it.")
    ad = unhex("50515253c0c1c2c3c4c5c6c7")
    k = unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
    n = unhex("404142434445464748494a4b4c4d4e4f5051525354555657")
    sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, ad, n, k)
    if sealed[-16:].hex() != "c0875924c1c7987947deafd8780acf49":
        failures.append("XChaCha20-Poly1305 draft A.3.1 tag")
    if sealed[:16].hex() != "bd6d179d3e83d43b9576579493c0e939":
        failures.append("XChaCha20-Poly1305 draft A.3.1 ciphertext")
    # Strict base64.
    for bad in ("QR==", "QQ", "Q Q==", "QQ==\n", "QQ==QQ==", "Q===", "-_==", "QUI=\r"):
        try:
            b64_strict(bad)
            failures.append("accepted base64 %r" % bad)
        except Malformed:
            pass
    # Round trips.
    if v1_decrypt(v1_encrypt(b"x" * 16, key, iv), key) != b"x" * 16:
        failures.append("v1 round trip")
    if v2_decrypt(v2_encrypt(b"hello", k, "ctx", n), k, "ctx") != b"hello":
        failures.append("v2 round trip")
    return {"checked": 1, "failures": failures}


# ---------------------------------------------------------------------------------------------


def _read_json():
    return json.loads(sys.stdin.buffer.read().decode("utf-8"))


def _write_json(value):
    sys.stdout.write(json.dumps(value, ensure_ascii=True) + "\n")


def _report(report):
    _write_json(report)
    return 1 if report["failures"] else 0


def _decrypt_request(request):
    key, blob = unhex(request["key"]), request["blob"]
    return outcome(decrypt_any, blob, key, request.get("context", ""))


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    command, args = argv[1], argv[2:]
    if command == "encrypt-v1":
        r = _read_json()
        iv = unhex(r["iv"]) if r.get("iv") else os.urandom(16)
        _write_json({"blob": v1_encrypt(unhex(r["plaintext"]), unhex(r["key"]), iv)})
    elif command == "decrypt-v1":
        r = _read_json()
        _write_json(outcome(v1_decrypt, r["blob"], unhex(r["key"])))
    elif command == "encrypt-v2":
        r = _read_json()
        nonce = unhex(r["nonce"]) if r.get("nonce") else os.urandom(24)
        _write_json({"blob": v2_encrypt(unhex(r["plaintext"]), unhex(r["key"]), r.get("context", ""), nonce)})
    elif command == "decrypt-v2":
        r = _read_json()
        _write_json(outcome(v2_decrypt, r["blob"], unhex(r["key"]), r.get("context", "")))
    elif command == "decrypt":
        _write_json(_decrypt_request(_read_json()))
    elif command == "decrypt-batch":
        _write_json([_decrypt_request(r) for r in _read_json()])
    elif command == "parse":
        blob = _read_json()["blob"]
        try:
            p = parse(blob)
            if p[0] == "v1":
                _write_json({"format": "v1", "ciphertext": p[1].hex(), "iv": p[2].hex()})
            else:
                _write_json({"format": "v2", "kid": p[1], "nonce": p[2].hex(), "sealed": p[3].hex()})
        except Malformed as error:
            _write_json({"outcome": "malformed", "error": str(error)})
    elif command == "kid":
        _write_json({"kid": kid_of(unhex(_read_json()["key"]))})
    elif command in ("gen-v1-cases", "gen-v2-cases"):
        if len(args) != 2:
            sys.stderr.write("usage: %s N SEED\n" % command)
            return 2
        generate = gen_v1_cases if command == "gen-v1-cases" else gen_v2_cases
        _write_json(generate(int(args[0]), int(args[1])))
    elif command == "check-v1-cases":
        return _report(check_v1_cases(_read_json()))
    elif command == "check-v2-cases":
        return _report(check_v2_cases(_read_json()))
    elif command == "check-vectors":
        if len(args) != 1:
            sys.stderr.write("usage: check-vectors DIR\n")
            return 2
        try:
            return _report(check_vectors(args[0]))
        except FileNotFoundError as error:
            sys.stderr.write("secured_reference.py: %s\n" % error)
            return 2
    elif command == "read-vectors":
        _write_json(read_vectors(args[0]))
    elif command == "self-test":
        return _report(self_test())
    else:
        sys.stderr.write("secured_reference.py: unknown command %r\n" % command)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
