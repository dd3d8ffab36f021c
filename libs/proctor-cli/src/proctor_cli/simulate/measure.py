"""What the simulation measures about the machine: CPU seconds of every process involved (from /proc) and
the consumer-group lag that tells when the pipeline has caught up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from proctor_cli.bench.common import postgres_cpu, proc_cpu
from proctor_cli.local import LocalStack


def _infra_pid(match: Callable[[str, str], bool]) -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if match(comm, cmdline):
                return int(entry.name)
    return None


def cpu_now(stack: LocalStack) -> dict[str, float]:
    """CPU seconds so far of every live service process, PostgreSQL (with exited backends), Kafka, MinIO."""
    out = {name: s.cpu_seconds() for name, s in stack.services.items() if s.process.poll() is None}
    out["postgresql"] = postgres_cpu()
    kafka = _infra_pid(lambda _comm, cmd: "kafka.Kafka" in cmd)
    minio = _infra_pid(lambda comm, _cmd: comm == "minio")
    out["kafka"] = proc_cpu(kafka) if kafka else 0.0
    out["minio"] = proc_cpu(minio) if minio else 0.0
    return out


def lag(bootstrap: str, inputs: dict[str, set[str]]) -> int:
    """Messages not yet consumed by each group on its input topics ({group: topics})."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": "sim-lag-probe"})
    total = 0
    try:
        for group, topics in inputs.items():
            offsets = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group]
            for tp in offsets.result(timeout=10).topic_partitions:
                if tp.topic in topics and tp.offset >= 0:
                    _low, high = probe.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), timeout=5)
                    total += max(0, high - tp.offset)
    finally:
        probe.close()
    return total
