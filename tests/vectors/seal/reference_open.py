#!/usr/bin/env python3
"""An independent opener for recpipe sealed files, written from
docs/seal-format.md alone (Python `cryptography`, no recpipe code), run over
every test vector: each must open or fail as its `expect:` line says.

    python3 tests/vectors/seal/reference_open.py [VECTOR...]

Exits 0 if every vector behaves as stated, 1 otherwise.
"""
import hashlib
import hmac
import pathlib
import struct
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
SEG = 65536


class Fail(Exception):
    """A failure of the kind named by a vector's `expect:` line."""


def bech32_decode(text):
    s = text.lower()
    hrp, data = s[: s.rindex("1")], s[s.rindex("1") + 1 :]
    values = [CHARSET.index(c) for c in data]
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    assert chk == 1, "bad Bech32 checksum"
    acc, bits, out = 0, 0, bytearray()
    for v in values[:-6]:
        acc, bits = (acc << 5) | v, bits + 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    return hrp, bytes(out)


def hkdf(ikm, salt, info):
    return HKDF(SHA256(), 32, salt, info).derive(ikm)


def unwrap(key, wrapped):
    return AESGCM(key).decrypt(b"\0" * 12, wrapped, None)


def open_sealed(data, identity=None, passphrase=None):
    if data[:12] != b"recpipe-seal":
        raise Fail("not sealed")
    if data[12] != 1:
        raise Fail("unsupported version")
    count, pos, stanzas = data[13], 14, []
    if not 1 <= count <= 32:
        raise Fail("malformed")
    for _ in range(count):
        kind, length = data[pos], struct.unpack(">H", data[pos + 1 : pos + 3])[0]
        stanzas.append((kind, data[pos + 3 : pos + 3 + length]))
        pos += 3 + length
    header, mac, nonce = data[:pos], data[pos : pos + 32], data[pos + 32 : pos + 48]
    payload = data[pos + 48 :]
    file_key = None
    for kind, body in stanzas:
        try:
            if kind == 1 and identity is not None:
                eph = body[:32]
                secret = X25519PrivateKey.from_private_bytes(identity)
                recipient = secret.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
                shared = secret.exchange(X25519PublicKey.from_public_bytes(eph))
                file_key = unwrap(hkdf(shared, eph + recipient, b"recpipe-seal v1 X25519"), body[32:])
            elif kind == 2 and passphrase is not None:
                salt = body[:16]
                m, t, p = struct.unpack(">III", body[16:28])
                key = Argon2id(salt=salt, length=32, iterations=t, lanes=p, memory_cost=m).derive(
                    passphrase.encode()
                )
                file_key = unwrap(key, body[28:])
        except (InvalidTag, ValueError):
            continue
        if file_key is not None:
            break
    if file_key is None:
        raise Fail("no match")
    mac_key = hkdf(file_key, None, b"recpipe-seal v1 header")
    if not hmac.compare_digest(hmac.new(mac_key, header, hashlib.sha256).digest(), mac):
        raise Fail("header")
    aead = AESGCM(hkdf(file_key, nonce, b"recpipe-seal v1 payload"))
    out, i, full = bytearray(), 0, SEG + 16
    while True:
        last = len(payload) <= full
        seg, payload = payload[:full], payload[full:]
        if len(seg) < 16 or (last and len(seg) == 16 and i > 0):
            raise Fail("truncated")
        try:
            out += aead.decrypt(b"\0" * 7 + struct.pack(">IB", i, last), seg, None)
        except InvalidTag:
            if last and len(seg) == full:
                try:
                    aead.decrypt(b"\0" * 7 + struct.pack(">IB", i, 0), seg, None)
                    raise Fail("truncated")
                except InvalidTag:
                    pass
            raise Fail("payload")
        i += 1
        if last:
            return bytes(out)


def check(path):
    head, body = path.read_text().split("---\n", 1)
    fields = dict(line.split(": ", 1) for line in head.splitlines())
    data = bytes.fromhex("".join(body.split()))
    identity = bech32_decode(fields["identity"])[1] if "identity" in fields else None
    try:
        plain = open_sealed(data, identity, fields.get("passphrase"))
        got = "success"
    except Fail as e:
        got = str(e)
    ok = got == fields["expect"]
    if ok and got == "success":
        ok = len(plain) == int(fields["plaintext-length"]) and hashlib.sha256(
            plain
        ).hexdigest() == fields["plaintext-sha256"]
    print(f"{'ok  ' if ok else 'FAIL'} {path.name}: expected {fields['expect']}, got {got}")
    return ok


def main():
    here = pathlib.Path(__file__).parent
    paths = [pathlib.Path(p) for p in sys.argv[1:]] or sorted(here.glob("*.vec"))
    results = [check(p) for p in paths]
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
