"""``proctor infra up|down|status`` and ``proctor topics``."""

from __future__ import annotations

import argparse
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from proctor_runtime.devinfra import InfraSettings, KafkaBroker, PostgresCluster
from proctor_runtime.topics import ensure_topics, new_topics


def register(sub: Any) -> None:
    infra = sub.add_parser("infra", help="local Kafka + PostgreSQL under the state directory")
    infra.add_argument("action", choices=["install", "up", "down", "status", "reset"])
    infra.add_argument("--json", action="store_true")
    infra.set_defaults(handler=infra_command)
    topics = sub.add_parser("topics", help="topics, partitions and consumer-group lag")
    topics.add_argument("--json", action="store_true")
    topics.add_argument("--all", action="store_true", help="include test and DLQ topics")
    topics.set_defaults(handler=topics_command)


def infra_command(args: argparse.Namespace) -> dict[str, Any]:
    settings = InfraSettings()
    kafka, pg = KafkaBroker(settings), PostgresCluster(settings)
    if args.action == "install":
        kafka.install()
        return {"kafka_libs": str(kafka.lib_dir), "postgres_bin": pg.bin("pg_ctl")}
    if args.action == "up":
        pg.start()
        try:
            kafka.start()
            created = ensure_topics(settings.kafka_bootstrap, new_topics())
        except Exception:
            pg.stop()
            raise
        return {**_status(settings, kafka, pg), "topics_created": created}
    if args.action == "down":
        kafka.stop()
        pg.stop()
        return _status(settings, kafka, pg)
    if args.action == "reset":
        kafka.reset()
        pg.stop()
        return _status(settings, kafka, pg)
    status = _status(settings, kafka, pg)
    status["exit_code"] = 0 if status["kafka"]["ready"] and status["postgres"]["ready"] else 3
    return status


def _status(settings: InfraSettings, kafka: KafkaBroker, pg: PostgresCluster) -> dict[str, Any]:
    kafka_up = kafka.running()
    pg_up = pg.initialised() and pg.running()
    return {
        "state_dir": str(settings.state),
        "kafka": {"running": kafka_up, "ready": kafka_up and kafka.ready(),
                  "bootstrap": settings.kafka_bootstrap, "log": str(kafka.log_file)},
        "postgres": {"running": pg_up, "ready": pg_up and pg.ready(), "dsn": settings.pg_dsn,
                     "log": str(pg.log_file)},
    }


def topics_command(args: argparse.Namespace) -> dict[str, Any]:
    settings = InfraSettings()
    bootstrap = settings.kafka_bootstrap
    admin = AdminClient({"bootstrap.servers": bootstrap})
    meta = admin.list_topics(timeout=10)
    names = sorted(n for n in meta.topics if not n.startswith("__")
                   and (args.all or (n.startswith("proctor.") and not n.endswith(".dlq"))))
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": "proctor-cli-probe"})
    ends: dict[tuple[str, int], int] = {}
    topics = []
    for name in names:
        partitions = sorted(meta.topics[name].partitions)
        size = 0
        for p in partitions:
            low, high = probe.get_watermark_offsets(TopicPartition(name, p), timeout=5)
            ends[(name, p)] = high
            size += high - low
        dlq = f"{name}.dlq"
        dlq_count = 0
        if dlq in meta.topics:
            low, high = probe.get_watermark_offsets(TopicPartition(dlq, 0), timeout=5)
            dlq_count = high - low
        topics.append({"topic": name, "partitions": len(partitions), "messages": size,
                       "dlq_messages": dlq_count})
    probe.close()
    groups = []
    listed = admin.list_consumer_groups().result(timeout=10)
    for group in sorted(g.group_id for g in listed.valid):
        offsets = admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group)])[group].result(timeout=10)
        mine = [tp for tp in offsets.topic_partitions if (tp.topic, tp.partition) in ends]
        if not mine:
            continue  # a group of other (test, DLQ) topics
        lag = sum(ends[(tp.topic, tp.partition)] - tp.offset for tp in mine if tp.offset >= 0)
        groups.append({"group": group, "topics": sorted({tp.topic for tp in mine}), "lag": lag})
    lines = [f"{t['topic']:<40} partitions={t['partitions']:<3} messages={t['messages']:<8} "
             f"dlq={t['dlq_messages']}" for t in topics]
    lines += [f"group {g['group']:<34} lag={g['lag']}" for g in groups]
    return {"bootstrap": bootstrap, "topics": topics, "consumer_groups": groups,
            "text": "\n".join(lines)}
