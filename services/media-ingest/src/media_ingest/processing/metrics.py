"""The media worker's own metrics (the shared Kafka/gRPC ones come from proctor_runtime.metrics)."""

from prometheus_client import Counter, Histogram

PROCESSING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

SEGMENTS = Counter(
    "proctor_media_segments_processed_total",
    "Segments processed, by action (remuxed, transcoded, none) and outcome (ok, flagged, unusable, duplicate)",
    ["action", "outcome"])
FLAGS = Counter("proctor_media_segment_flags_total", "Flags raised on processed segments", ["flag"])
PROCESSING_SECONDS = Histogram(
    "proctor_media_processing_seconds", "Wall time to process one segment (fetch, probe, normalise, store)",
    ["action"], buckets=PROCESSING_BUCKETS)
LAG_SECONDS = Histogram(
    "proctor_media_processing_lag_seconds",
    "From the raw segment's commit (MediaSegmentReceived.committed_at) to its MediaSegmentStored being queued",
    buckets=LAG_BUCKETS)
MEDIA_SECONDS = Counter(
    "proctor_media_processed_media_seconds_total", "Seconds of media normalised, by action", ["action"])
CPU_SECONDS = Counter(
    "proctor_media_processing_cpu_seconds_total",
    "CPU seconds spent probing and normalising (media seconds / CPU seconds = real-time factor)", ["action"])
STITCHED = Counter("proctor_media_streams_stitched_total", "Streams whose review playlist was finalised")
PLAYLIST_WRITES = Counter("proctor_media_playlist_writes_total", "Review playlists (re)written")
