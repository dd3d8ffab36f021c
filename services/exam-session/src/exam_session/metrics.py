"""exam-session's own metrics (the shared gRPC/Kafka ones come from proctor_runtime.metrics)."""

from prometheus_client import Counter, Gauge, Histogram

TRANSITIONS = Counter("proctor_exam_transitions_total", "Candidate state transitions",
                      ["from_state", "to_state"])
SWEEP_ACTIONS = Counter("proctor_exam_sweep_actions_total",
                        "Time-driven changes made by the sweeper", ["action"])
CANDIDATES_BY_STATE = Gauge("proctor_exam_candidates", "Candidates per state in active sittings",
                            ["sitting_id", "state"])
OUTBOX_PUBLISHED = Counter("proctor_exam_outbox_published_total", "Events published from the outbox")
ANSWER_CALLS = Counter("proctor_exam_answer_calls_total",
                       "SaveAnswer/Advance calls by how they were written: batched (one statement for many "
                       "candidates), duplicate (replayed), stale (memory out of date: general path), general "
                       "(nothing remembered, or a rule refused: general path)", ["path"])
ANSWER_PATHS = {path: ANSWER_CALLS.labels(path) for path in ("batched", "duplicate", "stale", "general")}
ANSWER_BATCH_SIZE = Histogram("proctor_exam_answer_batch_size", "Ops per batched answer statement",
                              buckets=(1, 2, 4, 8, 16, 32, 64, 128))
