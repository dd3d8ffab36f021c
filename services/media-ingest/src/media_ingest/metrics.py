"""media-ingest's own metrics (the shared gRPC/Kafka ones come from proctor_runtime.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from proctor.common.v1 import common_pb2
from proctor_runtime.metrics import LATENCY_BUCKETS

BYTES = Counter("proctor_media_ingest_bytes_total", "Media bytes made durable (new bytes, not re-sends)",
                ["stream_kind"])
SEGMENTS = Counter("proctor_media_ingest_segments_total", "Segments sealed and verified", ["stream_kind"])
CHUNKS = Counter("proctor_media_ingest_chunks_total",
                 "Chunks handled, by outcome (OK, DUPLICATE, or the refusal reason)", ["outcome"])
CHUNK_SECONDS = Histogram("proctor_media_ingest_chunk_seconds",
                          "Chunk received -> durable and recorded (the ack latency)", buckets=LATENCY_BUCKETS)
RESUMES = Counter("proctor_media_ingest_resumes_total", "UploadChunks calls resuming a stream with committed bytes",
                  ["stream_kind"])
STREAMS_OPENED = Counter("proctor_media_ingest_streams_opened_total", "OpenStream results (new or reopened)",
                         ["stream_kind", "outcome"])
STREAMS_CLOSED = Counter("proctor_media_ingest_streams_closed_total", "Streams closed, by final state",
                         ["stream_kind", "state"])
VERIFICATION_FAILURES = Counter("proctor_media_ingest_verification_failures_total",
                                "Segment hash or stream verification failures", ["level"])
STORAGE_ERRORS = Counter("proctor_media_ingest_storage_errors_total", "Storage failures (full, error)", ["kind"])
CANDIDATES_COMPLETE = Counter("proctor_media_ingest_candidates_complete_total",
                              "Candidates whose every required recording is verified")
STILLS = Counter("proctor_media_ingest_stills_total",
                 "Live analysis stills received (SubmitStills), by outcome (OK, or the reason the call was refused)",
                 ["stream_kind", "outcome"])
STILL_BYTES = Counter("proctor_media_ingest_still_bytes_total", "JPEG bytes of the stills published to Kafka",
                      ["stream_kind"])


def stream_kind(kind: int) -> str:
    """The ``stream_kind`` label: STREAM_KIND_DESKTOP_CAMERA -> desktop_camera."""
    return common_pb2.StreamKind.Name(kind).removeprefix("STREAM_KIND_").lower()
