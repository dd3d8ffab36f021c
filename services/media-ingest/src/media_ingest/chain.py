"""The per-stream hash chain (tamper and truncation evidence), as specified in media_ingest.proto:

    chain[-1] = SHA256("proctor.media.chain.v1" || UTF-8(stream_id))
    chain[i]  = SHA256(chain[i-1] || uint32_be(i) || uint64_be(size_i) || sha256_i)
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable

CHAIN_SPEC = "proctor.media.chain.v1"


def chain_seed(stream_id: str) -> bytes:
    return hashlib.sha256(CHAIN_SPEC.encode() + stream_id.encode()).digest()


def chain_next(previous: bytes, index: int, size: int, sha256: bytes) -> bytes:
    return hashlib.sha256(previous + struct.pack(">IQ", index, size) + sha256).digest()


def chain_over(stream_id: str, segments: Iterable[tuple[int, int, bytes]]) -> list[bytes]:
    """chain[i] for consecutive segments (index, size, sha256) starting at 0."""
    out: list[bytes] = []
    head = chain_seed(stream_id)
    for expected, (index, size, digest) in enumerate(segments):
        if index != expected:
            break
        head = chain_next(head, index, size, digest)
        out.append(head)
    return out
