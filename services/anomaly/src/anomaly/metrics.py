"""anomaly's own metrics (the shared gRPC/Kafka ones come from proctor_runtime.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from proctor_runtime.metrics import LATENCY_BUCKETS

SEGMENTS = Counter("proctor_anomaly_segments_total", "Stored segments handled, by outcome (analysed, "
                   "covered_by_stills, skipped_kind, unusable, unreadable, missing_object)", ["stream_kind", "outcome"])
FRAMES = Counter("proctor_anomaly_frames_total", "Frames sampled (decoded and fed to the tracker) and "
                 "declined (adaptive sampling: not decoded while the stream is calm, or duplicates)", ["stage"])
INCIDENTS = Counter("proctor_anomaly_incidents_total", "Incident changes published", ["kind", "change"])
IDENTITY = Counter("proctor_anomaly_identity_checks_total", "Identity re-verifications, by decision or error",
                   ["outcome"])
TELEMETRY = Counter("proctor_anomaly_telemetry_samples_total", "Telemetry samples handled", ["outcome"])
SEGMENT_SECONDS = Histogram("proctor_anomaly_segment_seconds", "Time to analyse one stored segment",
                            buckets=LATENCY_BUCKETS)
STILLS = Counter("proctor_anomaly_stills_total", "Live analysis stills handled, by outcome (handled, "
                 "skipped_kind, invalid)", ["stream_kind", "outcome"])
STILL_LAG = Histogram("proctor_anomaly_still_lag_seconds", "Still accepted by media-ingest -> analysed here",
                      buckets=LATENCY_BUCKETS)
LAG = Histogram("proctor_anomaly_segment_lag_seconds", "Segment stored (worker) -> analysed here",
                buckets=LATENCY_BUCKETS)
CANDIDATES = Gauge("proctor_anomaly_candidates_tracked", "Candidates with detector state in this process")
DEFERRED_CLOSES = Counter("proctor_anomaly_deferred_closes_total", "Candidates whose exam ended while segments of "
                          "theirs were still to analyse: their incidents close once those are analysed")
