"""A real media-ingest (in process) on the real PostgreSQL and Kafka, with a sitting set up."""

import pytest
from ingest_harness import sitting, start_ingest, stop_ingest


@pytest.fixture
async def ingest(pg_dsn, postgres, kafka_bootstrap, tmp_path):
    got = await start_ingest(pg_dsn, postgres, kafka_bootstrap, tmp_path / "objects")
    await sitting(got)
    yield got
    await stop_ingest(got, postgres)
