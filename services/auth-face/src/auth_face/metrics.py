"""auth-face's own metrics (the shared gRPC/Kafka ones come from proctor_runtime.metrics)."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

STAGE_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

LOGINS = Counter("proctor_auth_logins_total", "Face login attempts by outcome (verified, failed, "
                 "refused_other_device, override_claimed)", ["outcome"])
LOGIN_FAILURES = Counter("proctor_auth_login_failures_total", "Failed face logins by reason (the first, "
                         "shown to the candidate)", ["reason"])
LIVENESS_FAILURES = Counter("proctor_auth_liveness_failures_total",
                            "Liveness check failures by reason (STILL_IMAGE, STEP_NOT_FOUND, ...)", ["reason"])
VERIFY_SECONDS = Histogram("proctor_auth_verification_seconds", "Time spent per verification stage "
                           "(decode, analyse, liveness, embed, total)", ["operation", "stage"],
                           buckets=STAGE_BUCKETS)
ENROLMENTS = Counter("proctor_auth_enrolments_total", "Enrolments by outcome (enrolled, replaced, "
                     "unchanged, refused, error)", ["outcome"])
REVERIFY = Counter("proctor_auth_reverify_total", "Re-verifications by decision", ["decision"])
MANUAL_REVIEWS = Counter("proctor_auth_manual_reviews_total", "Manual reviews opened and resolved",
                         ["event"])
SESSIONS = Counter("proctor_auth_sessions_total", "Session tokens issued, refreshed and revoked", ["event"])
INFERENCE_QUEUE = Gauge("proctor_auth_inference_queued", "Model jobs waiting for or running on the "
                        "inference thread")
PACK_READY = Gauge("proctor_auth_model_pack_ready", "1 once the model pack is loaded and warmed",
                   ["pack", "version"])


@contextmanager
def timed(operation: str, stage: str) -> Iterator[None]:
    """Observe the time of one stage of an operation (enrol/login/reverify: decode, analyse, ...)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        VERIFY_SECONDS.labels(operation, stage).observe(time.perf_counter() - started)
