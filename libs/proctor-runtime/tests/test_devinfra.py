"""The local infrastructure scripts: clear errors, nothing left half-started, real readiness."""

import json
import socket
import subprocess
import sys

import pytest

from proctor_runtime.devinfra import InfraError, InfraSettings, KafkaBroker, PostgresCluster

pytestmark = pytest.mark.infra


def test_kafka_refuses_a_taken_port_and_leaves_nothing_running(tmp_path, kafka_broker):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        settings = InfraSettings(state_dir=tmp_path, kafka_port=taken, kafka_controller_port=taken + 1)
        broker = KafkaBroker(settings)
        with pytest.raises(InfraError, match=f"port {taken} is taken"):
            broker.start()
        assert not broker.running()


def test_postgres_refuses_a_taken_port(tmp_path, postgres):
    settings = InfraSettings(state_dir=tmp_path, pg_port=postgres.settings.pg_port)
    cluster = PostgresCluster(settings)
    with pytest.raises(InfraError, match=f"port {settings.pg_port} is taken"):
        cluster.start()
    assert not cluster.running()


def test_readiness_is_a_real_request(kafka_broker, postgres):
    assert kafka_broker.ready()
    assert postgres.ready()
    down = KafkaBroker(InfraSettings(kafka_port=1))
    assert not down.ready(timeout_s=0.5)


def test_cli_status_prints_one_json_object(kafka_broker, postgres):
    out = subprocess.run([sys.executable, "-m", "proctor_cli.main", "infra", "status", "--json"],
                         capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert len(lines) == 1
    status = json.loads(lines[0])
    assert status["kafka"]["ready"] and status["postgres"]["ready"]


def test_cli_topics_lists_the_system_topics(kafka_broker):
    from proctor_runtime.topics import ALL_TOPICS, ensure_topics, new_topics

    ensure_topics(kafka_broker.settings.kafka_bootstrap, new_topics())
    out = subprocess.run([sys.executable, "-m", "proctor_cli.main", "topics", "--json"],
                         capture_output=True, text=True, check=True).stdout
    listed = {t["topic"]: t for t in json.loads(out)["topics"]}
    for spec in ALL_TOPICS:
        assert listed[spec.name]["partitions"] == spec.partitions
