"""The chunk rules of a resumable upload (media_ingest.proto): pure functions, no I/O.

A segment grows contiguously: a chunk may start at or before the committed byte count; bytes it
repeats must be identical to the committed ones (an idempotent re-send), the rest are appended.
The chunk carrying a seal ends the segment: its size must match and the whole segment's SHA-256
is checked before the segment becomes immutable.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from proctor_runtime.errors import Aborted, FailedPrecondition, InvalidArgument, OutOfRange, ResourceExhausted


@dataclass(frozen=True)
class Limits:
    max_chunk_bytes: int = 1 << 20
    max_segment_bytes: int = 64 << 20
    max_stream_bytes: int = 8 << 30
    max_inflight_chunks: int = 16
    max_segments: int = 100_000


@dataclass(frozen=True)
class SegmentState:
    index: int
    committed_bytes: int = 0
    sealed: bool = False
    size: int | None = None
    sha256: bytes | None = None


@dataclass(frozen=True)
class Chunk:
    segment_index: int
    offset: int
    data: bytes
    sha256: bytes
    seal_size: int | None = None
    seal_sha256: bytes | None = None


@dataclass(frozen=True)
class Plan:
    """What to do with a valid chunk: compare ``overlap`` bytes, then write ``append`` at ``append_at``."""

    overlap_start: int
    overlap: bytes
    append_at: int
    append: bytes
    seal: bool

    @property
    def duplicate(self) -> bool:
        return not self.append and not self.seal


def check_chunk(chunk: Chunk, limits: Limits, stream_bytes: int) -> None:
    """Validation that needs no segment state."""
    if not chunk.data:
        raise InvalidArgument("FIELD_REQUIRED", "a chunk needs data", "数据块为空", {"field": "chunk.data"})
    if len(chunk.data) > limits.max_chunk_bytes:
        raise InvalidArgument("CHUNK_TOO_LARGE", f"a chunk carries at most {limits.max_chunk_bytes} bytes",
                              "数据块过大", {"max_bytes": str(limits.max_chunk_bytes)})
    if chunk.segment_index >= limits.max_segments:
        raise InvalidArgument("SEGMENT_INDEX_INVALID", f"segment index must be below {limits.max_segments}",
                              "分段编号无效", {"segment_index": str(chunk.segment_index)})
    if hashlib.sha256(chunk.data).digest() != chunk.sha256:
        raise InvalidArgument("CHUNK_HASH_MISMATCH", "the chunk's SHA-256 does not match its data (damaged in "
                              "transit); send it again", "数据块校验失败，请重新上传",
                              {"segment_index": str(chunk.segment_index), "offset": str(chunk.offset)})
    end = chunk.offset + len(chunk.data)
    if end > limits.max_segment_bytes:
        raise ResourceExhausted("SEGMENT_TOO_LARGE", f"a segment may hold at most {limits.max_segment_bytes} "
                                "bytes", "分段过大", {"max_bytes": str(limits.max_segment_bytes)})
    if chunk.seal_size is not None and chunk.seal_size != end:
        raise InvalidArgument("SEGMENT_SIZE_MISMATCH", f"the seal says {chunk.seal_size} bytes but the last chunk "
                              f"ends at {end}", "分段大小与封存信息不符", {"segment_index": str(chunk.segment_index)})
    if stream_bytes + len(chunk.data) > limits.max_stream_bytes:
        raise ResourceExhausted("STREAM_TOO_LARGE", f"a stream may hold at most {limits.max_stream_bytes} bytes",
                                "录像数据超过上限", {"max_bytes": str(limits.max_stream_bytes)})


def plan_chunk(segment: SegmentState, chunk: Chunk) -> Plan:
    """Decide how a chunk applies to a segment's committed state (raises on a rule violation)."""
    end = chunk.offset + len(chunk.data)
    if segment.sealed:
        assert segment.size is not None
        if end > segment.size or (chunk.seal_size is not None and chunk.seal_sha256 != segment.sha256):
            raise FailedPrecondition("SEGMENT_SEALED", "this segment is complete; it cannot change",
                                     "该分段已完成上传，不能修改", {"segment_index": str(segment.index)})
        return Plan(chunk.offset, chunk.data, end, b"", seal=False)
    if chunk.offset > segment.committed_bytes:
        raise OutOfRange("OFFSET_GAP", f"chunk starts at {chunk.offset} but only {segment.committed_bytes} bytes "
                         "of the segment are committed", "数据不连续，请从已确认的位置继续上传",
                         {"segment_index": str(segment.index), "committed_offset": str(segment.committed_bytes)})
    split = min(end, segment.committed_bytes)
    overlap = chunk.data[: split - chunk.offset]
    append = chunk.data[split - chunk.offset:]
    return Plan(chunk.offset, overlap, split, append, seal=chunk.seal_size is not None)


def check_overlap(plan: Plan, stored: bytes, segment_index: int) -> None:
    if stored != plan.overlap:
        raise Aborted("CHUNK_CONFLICT", "these bytes differ from the ones already committed at this offset",
                      "该位置已有不同的数据，上传冲突", {"segment_index": str(segment_index),
                                                         "offset": str(plan.overlap_start)})


def check_seal(chunk: Chunk, digest: bytes) -> None:
    if chunk.seal_sha256 != digest:
        raise InvalidArgument("SEGMENT_HASH_MISMATCH", "the segment's SHA-256 does not match its bytes",
                              "分段校验失败", {"segment_index": str(chunk.segment_index)})


def missing_segments(complete: set[int], count: int) -> list[int]:
    return [i for i in range(count) if i not in complete]


def ranges(indexes: list[int]) -> str:
    """[3, 4, 5, 9] -> '3-5,9' (the ErrorDetail metadata form)."""
    out: list[str] = []
    start = prev = None
    for i in indexes:
        if start is None:
            start = prev = i
        elif prev is not None and i == prev + 1:
            prev = i
        else:
            out.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = i
    if start is not None:
        out.append(f"{start}-{prev}" if start != prev else str(start))
    return ",".join(out)
