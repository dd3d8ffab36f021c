"""Kafka topics in the chart come from ``proctor_runtime.topics`` (the one definition), through the generated
``helm/proctor/files/topics.yaml``; the rendered Strimzi KafkaTopics carry partitions, retention and min ISR."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from helm_support import CHART, EXAMPLES, REGENERATE_HINT, Render, by_kind, helm_template, regenerate

from proctor_runtime.kafka import dlq_topic
from proctor_runtime.topics import ALL_TOPICS, DLQ_RETENTION_MS

TOPICS_FILE = CHART / "files" / "topics.yaml"


def topics_document() -> str:
    topics: list[dict[str, Any]] = []
    for spec in ALL_TOPICS:
        topics.append({"name": spec.name, "partitions": spec.partitions, "compacted": spec.compacted,
                       "key": spec.key, "purpose": spec.purpose, "config": spec.config(),
                       "dlq": "" if spec.compacted else dlq_topic(spec.name)})
    body = yaml.safe_dump({"dlqRetentionMs": str(DLQ_RETENTION_MS), "topics": topics}, sort_keys=False, width=120)
    return ("# Generated from libs/proctor-runtime/src/proctor_runtime/topics.py by helm/regenerate; do not edit.\n"
            "# partitions are the local counts; production counts are kafka.topics.partitions in the values.\n"
            + body)


def test_topics_file_matches_the_runtime_definition() -> None:
    expected = topics_document()
    if regenerate():
        TOPICS_FILE.write_text(expected)
    assert TOPICS_FILE.read_text() == expected, f"{TOPICS_FILE} is stale: run {REGENERATE_HINT}"


@pytest.mark.parametrize("values", [(), *((p,) for p in EXAMPLES)], ids=["default", *(p.stem for p in EXAMPLES)])
def test_every_topic_and_dlq_is_a_kafka_topic(render: Render, values: tuple[Any, ...]) -> None:
    manifest = yaml.safe_load_all(render(*values))
    docs = [d for d in manifest if d]
    chart_values = yaml.safe_load((CHART / "values.yaml").read_text())
    for path in values:
        chart_values["kafka"]["topics"].update(yaml.safe_load(path.read_text()).get("kafka", {}).get("topics", {}))
    wanted = chart_values["kafka"]["topics"]
    topics = {d["spec"]["topicName"]: d for d in docs if d["kind"] == "KafkaTopic"}
    if not wanted["create"]:
        assert topics == {}
        return
    for spec in ALL_TOPICS:
        topic = topics.pop(spec.name)
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == wanted["cluster"]
        assert topic["spec"]["partitions"] == wanted["partitions"].get(spec.name, spec.partitions)
        assert topic["spec"]["replicas"] == wanted["replicas"]
        config = topic["spec"]["config"]
        assert config["min.insync.replicas"] == str(wanted["minInsyncReplicas"])
        assert {k: config[k] for k in spec.config()} == spec.config()
        if not spec.compacted:
            dlq = topics.pop(dlq_topic(spec.name))
            assert dlq["spec"]["partitions"] == wanted["dlqPartitions"]
            assert dlq["spec"]["config"]["retention.ms"] == str(DLQ_RETENTION_MS)
    assert topics == {}, f"topics the runtime does not define: {sorted(topics)}"


def test_existing_cluster_option_renders_no_topics(render: Render) -> None:
    assert by_kind(render(sets=("kafka.topics.create=false",)), "KafkaTopic") == []


def test_anomaly_state_must_be_copartitioned_with_stored_segments(helm: Any) -> None:
    result = helm_template(helm, sets=("kafka.topics.partitions.proctor\\.media-segments-stored\\.v1=48",))
    assert result.returncode != 0
    assert "anomaly-state.v1 (12) must have as many partitions as proctor.media-segments-stored.v1 (48)" \
        in result.stderr


def test_unknown_topic_in_partitions_is_refused(helm: Any) -> None:
    result = helm_template(helm, sets=("kafka.topics.partitions.proctor\\.typo\\.v1=4",))
    assert result.returncode != 0
    assert 'names "proctor.typo.v1", which is not a topic' in result.stderr


def test_min_isr_must_leave_room_for_a_broker_outage(helm: Any) -> None:
    result = helm_template(helm, sets=("kafka.topics.replicas=2",))
    assert result.returncode != 0
    assert "minInsyncReplicas (2) must be below replicas (2)" in result.stderr
