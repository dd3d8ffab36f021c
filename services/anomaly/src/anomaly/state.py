"""Per-candidate detector state across rebalances: the compacted changelog topic
``proctor.anomaly-state.v1`` (key = candidate id, latest snapshot wins).

The anomaly consumer group uses the *range* assignor, so partition p of every input topic (all keyed
by candidate id with the same partition count) and of the changelog goes to the same worker: a
candidate's segments, telemetry and session events meet one tracker. When a worker is assigned a
partition it reads that partition of the changelog from the beginning (compacted: one snapshot per
candidate) before the first handler of that partition needs a tracker.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from proctor.events.v1 import anomaly_pb2
from proctor_runtime.topics import ANOMALY_STATE

log = logging.getLogger(__name__)


class SnapshotStore:
    """Snapshots by candidate for the partitions this worker owns, loaded on first use per partition."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._loaded: dict[int, dict[str, anomaly_pb2.AnomalyStateSnapshot]] = {}
        self._lock = threading.Lock()
        self._loading: dict[int, threading.Lock] = {}

    def forget(self, partition: int) -> None:
        with self._lock:
            self._loaded.pop(partition, None)

    def get(self, partition: int, sitting_id: str, candidate_id: str) -> anomaly_pb2.AnomalyStateSnapshot | None:
        """The latest snapshot of this candidate in this sitting (blocking: call in a thread)."""
        with self._lock:
            snapshots = self._loaded.get(partition)
            loading = self._loading.setdefault(partition, threading.Lock())
        if snapshots is None:
            with loading:  # one read of a partition, however many candidates of it ask at once
                with self._lock:
                    snapshots = self._loaded.get(partition)
                if snapshots is None:
                    snapshots = self._read_partition(partition)
                    with self._lock:
                        self._loaded[partition] = snapshots
        found = snapshots.get(candidate_id)
        if found is None or found.meta.sitting_id != sitting_id:
            return None  # candidate ids are per sitting: another sitting's snapshot is not this one's
        return found

    def remember(self, partition: int, candidate_id: str, snapshot: anomaly_pb2.AnomalyStateSnapshot) -> None:
        with self._lock:
            if partition in self._loaded:
                self._loaded[partition][candidate_id] = snapshot

    def _read_partition(self, partition: int, timeout_s: float = 30.0) -> dict[str, anomaly_pb2.AnomalyStateSnapshot]:
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"anomaly-restore-{uuid.uuid4().hex}",
                             "enable.auto.commit": False, "isolation.level": "read_committed"})
        out: dict[str, anomaly_pb2.AnomalyStateSnapshot] = {}
        try:
            tp = TopicPartition(ANOMALY_STATE.name, partition)
            low, high = consumer.get_watermark_offsets(tp, timeout=10)
            if high <= low:
                return out
            consumer.assign([TopicPartition(ANOMALY_STATE.name, partition, OFFSET_BEGINNING)])
            deadline = time.monotonic() + timeout_s
            position = low
            while position < high and time.monotonic() < deadline:
                msg = consumer.poll(0.5)
                if msg is None:
                    continue
                if msg.error():
                    continue
                position = msg.offset() + 1
                key = (msg.key() or b"").decode()
                if msg.value() is None:  # a tombstone: the candidate's state was dropped
                    out.pop(key, None)
                    continue
                out[key] = anomaly_pb2.AnomalyStateSnapshot.FromString(msg.value())
            if position < high:
                raise KafkaException(f"restoring {ANOMALY_STATE.name}[{partition}] stopped at {position}/{high}")
        finally:
            consumer.close()
        log.info("detector state restored", extra={"partition": partition, "candidates": len(out)})
        return out
