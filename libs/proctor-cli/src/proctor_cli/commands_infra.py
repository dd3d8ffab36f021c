"""``proctor infra install|up|down|status|reset`` (Kafka, PostgreSQL, MinIO) and ``proctor topics``."""

from __future__ import annotations

import argparse
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from proctor_runtime.devinfra import InfraSettings, KafkaBroker, MinioServer, PostgresCluster
from proctor_runtime.devinfra.helm import HelmTool
from proctor_runtime.topics import ensure_topics, new_topics


def register(sub: Any) -> None:
    infra = sub.add_parser("infra", help="local Kafka + PostgreSQL + MinIO (S3) under the state directory")
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
    minio = MinioServer(settings) if settings.minio else None  # PROCTOR_INFRA_MINIO=0: left out
    if args.action == "install":
        kafka.install()
        if minio is not None:
            minio.install()
        helm = HelmTool(settings)  # for the chart's offline CI checks (tests/helm); without Go they skip
        if helm.go() is not None:
            helm.install()
        return {"kafka_libs": str(kafka.lib_dir), "postgres_bin": pg.bin("pg_ctl"),
                "minio_bin": str(minio.binary) if minio is not None else None,
                "helm_bin": str(helm.binary) if helm.installed() else None}
    if args.action == "up":
        pg.start()
        try:
            kafka.start()
            created = ensure_topics(settings.kafka_bootstrap, new_topics())
            if minio is not None:
                minio.start()
        except Exception:
            kafka.stop()  # MinIO, started last, may fail after Kafka came up
            pg.stop()
            raise
        return {**_status(settings, kafka, pg, minio), "topics_created": created}
    if args.action == "down":
        kafka.stop()
        pg.stop()
        if minio is not None:
            minio.stop()
        return _status(settings, kafka, pg, minio)
    if args.action == "reset":
        kafka.reset()
        pg.stop()
        if minio is not None:
            minio.reset()
        return _status(settings, kafka, pg, minio)
    status = _status(settings, kafka, pg, minio)
    minio_ok = minio is None or status["minio"]["ready"]
    status["exit_code"] = 0 if status["kafka"]["ready"] and status["postgres"]["ready"] and minio_ok else 3
    return status


def _status(settings: InfraSettings, kafka: KafkaBroker, pg: PostgresCluster,
            minio: MinioServer | None) -> dict[str, Any]:
    kafka_up = kafka.running()
    pg_up = pg.initialised() and pg.running()
    status: dict[str, Any] = {
        "state_dir": str(settings.state),
        "kafka": {"running": kafka_up, "ready": kafka_up and kafka.ready(),
                  "bootstrap": settings.kafka_bootstrap, "log": str(kafka.log_file)},
        "postgres": {"running": pg_up, "ready": pg_up and pg.ready(), "dsn": settings.pg_dsn,
                     "log": str(pg.log_file)},
    }
    if minio is None:
        status["minio"] = {"enabled": False}
    else:
        minio_up = minio.running()
        status["minio"] = {"enabled": True, "running": minio_up, "ready": minio_up and minio.ready(),
                           "endpoint": settings.minio_endpoint, "bucket": settings.minio_bucket,
                           "log": str(minio.log_file)}
    return status


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
