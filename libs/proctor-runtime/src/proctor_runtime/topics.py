"""The Kafka topics of the system: names, partitions, retention, compaction, payload, key.

Kafka carries events and references (object URIs), never recorded media bytes (the one exception:
the live analysis stills, small JPEGs kept a day, the detectors' input and not the record); PostgreSQL is the system of
record, so event topics are time-retained streams. The one compacted topic is a changelog of
per-candidate detector state, so the anomaly workers rebuild state after a rebalance. Every
topic has a ``<name>.dlq`` twin for poison messages. Partition counts here are the local ones;
production counts are Helm values (see docs/deploy.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from confluent_kafka.admin import AdminClient, NewTopic

from proctor_runtime.kafka import dlq_topic

log = logging.getLogger(__name__)

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    message: str  # protobuf full name of the payload
    partitions: int
    retention_ms: int
    compacted: bool = False
    key: str = "candidate_id"
    purpose: str = ""

    def config(self) -> dict[str, str]:
        if self.compacted:
            return {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000",
                    "segment.ms": str(3600 * 1000)}
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms)}


SESSION_EVENTS = TopicSpec(
    "proctor.session-events.v1", "proctor.events.v1.SessionEvent", 12, 14 * DAY_MS,
    purpose="candidate state transitions from exam-session")
MEDIA_SEGMENTS_RECEIVED = TopicSpec(
    "proctor.media-segments-received.v1", "proctor.events.v1.MediaSegmentReceived", 12, 3 * DAY_MS,
    purpose="a raw segment is durable in storage: work for the media processing worker")
MEDIA_SEGMENTS_STORED = TopicSpec(
    "proctor.media-segments-stored.v1", "proctor.events.v1.MediaSegmentStored", 12, 14 * DAY_MS,
    purpose="a validated, normalised segment: input of anomaly")
MEDIA_STILLS = TopicSpec(
    "proctor.media-stills.v1", "proctor.events.v1.MediaStill", 12, 1 * DAY_MS,
    purpose="live analysis stills (small JPEGs, 1/s per analysed stream): input of anomaly, not the record")
MEDIA_STREAMS = TopicSpec(
    "proctor.media-streams.v1", "proctor.events.v1.MediaStreamEvent", 12, 14 * DAY_MS,
    purpose="stream opened/closed/verified, room scan recorded, upload complete")
CLIENT_TELEMETRY = TopicSpec(
    "proctor.client-telemetry.v1", "proctor.events.v1.ClientTelemetry", 12, 3 * DAY_MS,
    purpose="display count, focus, screenshot attempts, VM, network from the clients")
INCIDENTS = TopicSpec(
    "proctor.incidents.v1", "proctor.events.v1.IncidentEvent", 12, 30 * DAY_MS,
    purpose="incident opened/updated/closed, for notify and the review report")
HELP_MESSAGES = TopicSpec(
    "proctor.help-messages.v1", "proctor.events.v1.HelpMessage", 6, 30 * DAY_MS,
    purpose="help chat, both directions")
NOTIFICATIONS = TopicSpec(
    "proctor.notifications.v1", "proctor.events.v1.Notification", 6, 7 * DAY_MS,
    purpose="notices to candidates: warnings, help replies, upload status")
AUDIT = TopicSpec(
    "proctor.audit.v1", "proctor.events.v1.AuditEvent", 3, 90 * DAY_MS, key="actor",
    purpose="security audit trail: logins, failures, overrides, token issuance")
ANOMALY_STATE = TopicSpec(
    "proctor.anomaly-state.v1", "proctor.events.v1.AnomalyStateSnapshot", 12, -1, compacted=True,
    purpose="compacted changelog of per-candidate detector state (rebuilt after a rebalance)")

ALL_TOPICS: tuple[TopicSpec, ...] = (
    SESSION_EVENTS, MEDIA_SEGMENTS_RECEIVED, MEDIA_SEGMENTS_STORED, MEDIA_STILLS, MEDIA_STREAMS,
    CLIENT_TELEMETRY, INCIDENTS, HELP_MESSAGES, NOTIFICATIONS, AUDIT, ANOMALY_STATE,
)
DLQ_RETENTION_MS = 30 * DAY_MS


def new_topics(specs: tuple[TopicSpec, ...] = ALL_TOPICS, replication: int = 1,
               partitions_scale: float = 1.0) -> list[NewTopic]:
    out = []
    for spec in specs:
        count = max(1, round(spec.partitions * partitions_scale))
        out.append(NewTopic(spec.name, count, replication, config=spec.config()))
        if not spec.compacted:
            out.append(NewTopic(dlq_topic(spec.name), 1, replication,
                                config={"retention.ms": str(DLQ_RETENTION_MS)}))
    return out


def ensure_topics(bootstrap: str, topics: list[NewTopic], timeout_s: float = 30.0) -> list[str]:
    """Create the topics that do not exist yet; returns the names created. Idempotent."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    missing = [t for t in topics if t.topic not in existing]
    if not missing:
        return []
    futures = admin.create_topics(missing, operation_timeout=timeout_s)
    created = []
    for name, future in futures.items():
        try:
            future.result(timeout=timeout_s)
            created.append(name)
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    log.info("topics created", extra={"topics": created})
    return created
