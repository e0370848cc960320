"""Base62 uids: random ones for records, deterministic ones derived from hashes."""

from __future__ import annotations

import hashlib
import os

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# 248 = 4 * 62: bytes below it map onto the alphabet without bias.
_UNBIASED = 248
_TABLE = bytes(ord(BASE62[i % 62]) for i in range(256))

# uid lengths per registry (reference §2); versioned registries split stem + suffix.
UID_LENGTHS: dict[str, int] = {
    "Artifact": 20,
    "Collection": 20,
    "Transform": 16,
    "Run": 20,
    "FeatureSet": 20,
    "Feature": 12,
    "Storage": 12,
    "ULabel": 8,
    "User": 8,
    "Instance": 12,
}


def base62(n: int) -> str:
    """Return ``n`` cryptographically random base62 characters."""
    out = bytearray()
    while len(out) < n:
        chunk = os.urandom(2 * n)
        out += bytes(b for b in chunk if b < _UNBIASED)
    return bytes(out[:n]).translate(_TABLE).decode()


def base62_many(n: int, count: int) -> list[str]:
    """Return ``count`` random uids of length ``n`` (faster than a loop of base62)."""
    need = n * count
    buf = bytearray()
    while len(buf) < need:
        chunk = os.urandom(need - len(buf) + need // 16 + 16)
        buf += chunk.translate(None, bytes(range(_UNBIASED, 256)))
    text = bytes(buf[:need]).translate(_TABLE).decode()
    return [text[i : i + n] for i in range(0, need, n)]


# two base62 digits per division: half the big-integer divisions (bulk uids)
_PAIRS = [a + b for a in BASE62 for b in BASE62]


def encode_base62(data: bytes) -> str:
    """Encode bytes as a big-endian base62 number (leading zero bytes kept as '0')."""
    number = int.from_bytes(data, "big")
    pairs = []
    while number:
        number, rem = divmod(number, 3844)
        pairs.append(_PAIRS[rem])
    leading = len(data) - len(data.lstrip(b"\0"))
    return "0" * leading + "".join(reversed(pairs)).lstrip("0")


def hash_to_uid(value: str, n: int) -> str:
    """Deterministic uid: base62 of md5(value), first ``n`` characters."""
    return encode_base62(hashlib.md5(value.encode()).digest())[:n]
