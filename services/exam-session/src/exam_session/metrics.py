"""exam-session's own metrics (the shared gRPC/Kafka ones come from proctor_runtime.metrics)."""

from prometheus_client import Counter, Gauge

TRANSITIONS = Counter("proctor_exam_transitions_total", "Candidate state transitions",
                      ["from_state", "to_state"])
SWEEP_ACTIONS = Counter("proctor_exam_sweep_actions_total",
                        "Time-driven changes made by the sweeper", ["action"])
CANDIDATES_BY_STATE = Gauge("proctor_exam_candidates", "Candidates per state in active sittings",
                            ["sitting_id", "state"])
OUTBOX_PUBLISHED = Counter("proctor_exam_outbox_published_total", "Events published from the outbox")
