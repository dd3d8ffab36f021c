"""media-ingest helpers of the campaign: chunks, and the check that what is committed is what is stored."""

from __future__ import annotations

import hashlib
from typing import Any

from media_ingest.chain import chain_over
from proctor.media.v1 import media_ingest_pb2 as pb


def chunk(stream_id, index, offset, data, seal_size=0, seal_sha=b""):
    c = pb.MediaChunk(stream_id=stream_id, segment_index=index, offset=offset, data=data,
                      sha256=hashlib.sha256(data).digest())
    if seal_size:
        c.seal.size_bytes, c.seal.sha256 = seal_size, seal_sha
    return c


def object_key(stream: pb.MediaStreamInfo, index: int) -> str:
    return f"raw/{stream.sitting_id}/{stream.candidate_id}/{stream.attempt_number}/{stream.stream_id}/{index:06d}.seg"


def committed_bytes(ingest: Any, manifest: pb.Manifest, offset: pb.CommittedOffset) -> dict[int, str]:
    """SHA-256 of every committed byte of the stream, per segment: what the server acknowledged (bytes a
    refused chunk left beyond a partial segment's committed end are unacknowledged by design)."""
    lengths = {s.segment_index: s.size_bytes for s in manifest.segments}
    lengths.update({p.segment_index: p.committed_bytes for p in offset.segments})
    return {i: hashlib.sha256(ingest.objects.read(object_key(manifest.stream, i), 0, n)).hexdigest()
            for i, n in sorted(lengths.items())}


async def committed_bytes_match(ingest: Any, stream_id: str) -> None:
    """Every committed segment's stored bytes are as long as committed; sealed ones hash to the manifest
    and the manifest's chain is the chain over them."""
    staff = ingest.staff()
    manifest = await ingest.stub.GetManifest(pb.GetManifestRequest(stream_id=stream_id), metadata=staff)
    for seg in manifest.segments:
        data = ingest.objects.read(ingest.objects.key_of(seg.object_uri), 0, seg.size_bytes + 1)
        assert len(data) == seg.size_bytes and hashlib.sha256(data).digest() == seg.sha256, seg.segment_index
    contiguous = [s for i, s in enumerate(manifest.segments) if s.segment_index == i]
    chain = chain_over(stream_id, [(s.segment_index, s.size_bytes, s.sha256) for s in contiguous])
    assert [s.chain_hash for s in contiguous] == chain
    offset = await ingest.stub.GetCommittedOffset(pb.GetCommittedOffsetRequest(stream_id=stream_id), metadata=staff)
    s = manifest.stream
    for progress in offset.segments:
        if not progress.complete:
            got = ingest.objects.read(object_key(s, progress.segment_index), 0, progress.committed_bytes)
            assert len(got) == progress.committed_bytes, progress
