"""A real notify in process for each test, on the session's PostgreSQL and Kafka."""

import pytest
from notify_harness import start_notify, stop_notify


@pytest.fixture
async def notify(pg_dsn, kafka_bootstrap, tmp_path):
    h = await start_notify(pg_dsn, kafka_bootstrap, tmp_path / "media")
    yield h
    await stop_notify(h)
