"""Pytest fixtures that start the real dependencies once per test session.

Kafka and PostgreSQL are the project's own local instances (``proctor_runtime.devinfra``):
already running ones (``scripts/test`` starts them) are reused, otherwise the fixtures start
them and stop them at the end. Each test gets fresh topics and, when it asks, a fresh database.
MinIO (the local S3 endpoint) likewise, but its tests skip with the reason when it is switched
off (``PROCTOR_INFRA_MINIO=0``) or not built yet (``scripts/setup`` builds it).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from proctor_runtime.devinfra import InfraSettings, KafkaBroker, MinioServer, PostgresCluster, S3Endpoint, repo_root
from proctor_runtime.kafka import start_group_at_end  # noqa: F401  (re-exported for the tests)

SHARED_FACES = repo_root().parent / "shared" / "testdata" / "faces"


@pytest.fixture(scope="session")
def infra_settings() -> InfraSettings:
    return InfraSettings()


@pytest.fixture(scope="session")
def kafka_broker(infra_settings: InfraSettings) -> Iterator[KafkaBroker]:
    broker = KafkaBroker(infra_settings)
    started_here = not broker.running()
    broker.start()
    yield broker
    if started_here:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: KafkaBroker) -> str:
    return kafka_broker.settings.kafka_bootstrap


@pytest.fixture
def new_topic(kafka_bootstrap: str) -> Callable[..., str]:
    """Create a uniquely named topic (and its DLQ) for one test."""
    from confluent_kafka.admin import NewTopic

    from proctor_runtime.kafka import dlq_topic
    from proctor_runtime.topics import ensure_topics

    def make(prefix: str = "test", partitions: int = 3) -> str:
        name = f"{prefix}.{uuid.uuid4().hex[:10]}"
        ensure_topics(kafka_bootstrap, [NewTopic(name, partitions, 1),
                                        NewTopic(dlq_topic(name), 1, 1)])
        return name

    return make


@pytest.fixture(scope="session")
def postgres(infra_settings: InfraSettings) -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(infra_settings)
    started_here = not (cluster.initialised() and cluster.running())
    cluster.start()
    yield cluster
    if started_here:
        cluster.stop()


@pytest.fixture
def pg_dsn(postgres: PostgresCluster) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    postgres.psql(f'CREATE DATABASE "{name}"')
    yield postgres.settings.pg_dsn_for(name)
    postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def minio_server(infra_settings: InfraSettings) -> Iterator[MinioServer]:
    if not infra_settings.minio:
        pytest.skip("the local MinIO server is switched off (PROCTOR_INFRA_MINIO=0)")
    server = MinioServer(infra_settings)
    if not server.installed():
        pytest.skip(f"MinIO is not built at {server.binary}: run scripts/setup or `proctor infra install` "
                    "(go install through the Go module proxy, a few minutes)")
    started_here = not server.running()
    server.start()
    yield server
    if started_here:
        server.stop()


@pytest.fixture(scope="session")
def s3_endpoint(minio_server: MinioServer) -> S3Endpoint:
    """Endpoint, development credentials and the bucket created at start; tests use their own key prefix."""
    return minio_server.endpoint


@pytest.fixture(scope="session")
def shared_faces() -> Path:
    """The shared real-face test data; tests that need it skip when it is absent."""
    if not (SHARED_FACES / "manifest.csv").exists():
        pytest.skip(f"shared face test data not found at {SHARED_FACES} (CI has it)")
    return SHARED_FACES


@pytest.fixture(scope="session")
def ffmpeg_bin() -> str:
    found = shutil.which("ffmpeg")
    if found is None:
        pytest.fail("ffmpeg is not installed: run scripts/setup")
    return found
