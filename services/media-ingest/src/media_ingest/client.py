"""A resumable upload client for MediaIngest: what a desktop or phone client does, in Python.

Used by the demo, the benchmark and the tests, and a reference for client authors: it asks where
to resume, sends only what is not yet committed (bounded in flight), keeps every unacknowledged
chunk until its ack, seals each segment with its size and SHA-256, and closes the stream with the
hash-chain head it computed itself.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from media_ingest.chain import chain_next, chain_seed
from proctor.media.v1 import media_ingest_pb2 as pb
from proctor.media.v1 import media_ingest_pb2_grpc as pb_grpc

Metadata = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Segment:
    data: bytes
    start: datetime | None = None
    duration: timedelta | None = None

    @property
    def sha256(self) -> bytes:
        return hashlib.sha256(self.data).digest()


def chain_head(stream_id: str, segments: Sequence[Segment]) -> bytes:
    head = chain_seed(stream_id)
    for i, seg in enumerate(segments):
        head = chain_next(head, i, len(seg.data), seg.sha256)
    return head


def chunk_messages(stream_id: str, index: int, seg: Segment, chunk_bytes: int, start_at: int = 0,
                   ) -> list[pb.MediaChunk]:
    """The chunks of one segment from byte ``start_at`` on; the last one carries the seal."""
    out: list[pb.MediaChunk] = []
    offset = start_at
    size = len(seg.data)
    while offset < size or (size == 0 and not out):
        data = seg.data[offset:offset + chunk_bytes]
        chunk = pb.MediaChunk(stream_id=stream_id, segment_index=index, offset=offset, data=data,
                              sha256=hashlib.sha256(data).digest())
        offset += len(data)
        if offset >= size:
            chunk.seal.size_bytes = size
            chunk.seal.sha256 = seg.sha256
            if seg.start is not None:
                chunk.seal.client_start_time.FromDatetime(seg.start)
                if seg.duration is not None:
                    chunk.seal.client_end_time.FromDatetime(seg.start + seg.duration)
            if seg.duration is not None:
                chunk.seal.media_duration.FromTimedelta(seg.duration)
        out.append(chunk)
        if not data:
            break
    return out


def remaining(committed: pb.CommittedOffset, count: int) -> list[tuple[int, int]]:
    """(segment index, first uncommitted byte) of every segment not yet complete."""
    progress = {p.segment_index: p for p in committed.segments}
    out = []
    for i in range(committed.contiguous_segments, count):
        p = progress.get(i)
        if p is None:
            out.append((i, 0))
        elif not p.complete:
            out.append((i, p.committed_bytes))
    return out


DEFAULT_CHUNK_BYTES = 256 * 1024  # when the server announces no max_chunk_bytes


@dataclass
class UploadStats:
    chunks_sent: int = 0
    bytes_sent: int = 0
    duplicates: int = 0
    segments_sealed: int = 0
    ack_times: list[float] = field(default_factory=list)  # monotonic time of each segment ack
    sealed_indexes: list[int] = field(default_factory=list)
    acked_bytes: dict[int, int] = field(default_factory=dict)  # segment -> committed bytes acknowledged


@dataclass
class StreamUploader:
    stub: pb_grpc.MediaIngestStub
    metadata: Metadata
    stream_id: str
    # bytes of segment data per chunk; 0 = as large as the server allows (``UploadReady.limits.max_chunk_bytes``,
    # 1 MiB by default): every chunk is a database transaction and a file write on the server, so a 30-s
    # camera segment (~1 MB) goes in one or two chunks instead of four of 256 KiB
    chunk_bytes: int = 0
    max_inflight: int = 8
    stats: UploadStats = field(default_factory=UploadStats)

    async def committed(self) -> pb.CommittedOffset:
        return await self.stub.GetCommittedOffset(pb.GetCommittedOffsetRequest(stream_id=self.stream_id),
                                                  metadata=self.metadata)

    async def upload(self, segments: Sequence[Segment], only: Sequence[int] | None = None) -> pb.CommittedOffset:
        """Upload every segment (or the indexes in ``only``) not yet committed, resuming where the
        server says; returns the server's committed state at the start of the call."""
        pending: list[pb.MediaChunk] = []
        window = asyncio.Semaphore(self.max_inflight)
        ready_seen = asyncio.Event()
        ended = False
        state: dict[str, Any] = {}  # from the ready frame: "committed" (CommittedOffset), "limits" (UploadLimits)

        async def requests() -> AsyncIterator[pb.UploadChunksRequest]:
            yield pb.UploadChunksRequest(header=pb.UploadHeader(stream_id=self.stream_id))
            await ready_seen.wait()
            if ended:
                return
            todo = remaining(state["committed"], len(segments))
            size = self.chunk_bytes or state["limits"].max_chunk_bytes or DEFAULT_CHUNK_BYTES
            for index, start_at in todo:
                if only is not None and index not in only:
                    continue
                for chunk in chunk_messages(self.stream_id, index, segments[index], size, start_at):
                    await window.acquire()
                    if ended:
                        return
                    pending.append(chunk)
                    self.stats.chunks_sent += 1
                    self.stats.bytes_sent += len(chunk.data)
                    yield pb.UploadChunksRequest(chunk=chunk)

        call = self.stub.UploadChunks(requests(), metadata=self.metadata)
        try:
            return await self._read_acks(call, pending, window, ready_seen, state)
        finally:
            # the call ended (or broke: a dropped network, a restarting server): let the request
            # generator return instead of waiting forever for a window or a ready that will not come
            ended = True
            ready_seen.set()
            window.release()

    async def _read_acks(self, call: Any, pending: list[pb.MediaChunk], window: asyncio.Semaphore,
                         ready_seen: asyncio.Event, state: dict[str, Any]) -> pb.CommittedOffset:
        async for frame in call:
            which = frame.WhichOneof("frame")
            if which == "ready":
                state["committed"] = frame.ready.committed
                state["limits"] = frame.ready.limits
                ready_seen.set()
            elif which == "chunk_ack":
                pending.pop(0)  # acks come in order: the oldest unacknowledged chunk is durable
                window.release()
                self.stats.duplicates += frame.chunk_ack.duplicate
                ack = frame.chunk_ack
                self.stats.acked_bytes[ack.segment_index] = max(self.stats.acked_bytes.get(ack.segment_index, 0),
                                                                ack.committed_bytes)
            elif which == "segment_ack":
                self.stats.segments_sealed += 1
                self.stats.sealed_indexes.append(frame.segment_ack.segment_index)
                self.stats.ack_times.append(asyncio.get_running_loop().time())
        committed: pb.CommittedOffset = state["committed"]
        return committed

    async def close(self, segments: Sequence[Segment], reason: int = pb.CLOSE_REASON_COMPLETED,
                    accept_missing: bool = False, note: str = "") -> pb.CloseStreamResponse:
        return await self.stub.CloseStream(pb.CloseStreamRequest(
            stream_id=self.stream_id, segment_count=len(segments), total_bytes=sum(len(s.data) for s in segments),
            chain_head=chain_head(self.stream_id, segments), reason=reason, accept_missing=accept_missing,
            note=note), metadata=self.metadata)
