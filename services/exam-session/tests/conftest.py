"""A real exam-session (in process) on the real PostgreSQL and Kafka, with a controllable clock."""

import uuid

import pytest
from exam_harness import serve, shut
from pydantic import SecretStr

from exam_session.config import Settings
from proctor_runtime.testing.plugin import start_group_at_end
from proctor_runtime.tokens import TokenSigner, generate_key
from proctor_runtime.topics import MEDIA_STREAMS, ensure_topics, new_topics


@pytest.fixture
def exam_settings(pg_dsn, kafka_bootstrap) -> tuple[Settings, TokenSigner, TokenSigner]:
    """The settings of a test exam-session and the auth-face and admin signers its tokens trust."""
    ensure_topics(kafka_bootstrap, new_topics())
    auth_signing, auth_public = generate_key("auth-face-1")
    admin_signing, admin_public = generate_key("admin-1")
    exam_signing, exam_public = generate_key("exam-session-1")
    group = f"exam-session-test-{uuid.uuid4().hex[:6]}"
    start_group_at_end(kafka_bootstrap, group, [MEDIA_STREAMS.name])
    settings = Settings(
        database_url=SecretStr(pg_dsn), kafka_bootstrap=kafka_bootstrap,
        kafka_group_id=group, kafka_offset_reset="earliest",
        token_signing_key=SecretStr(exam_signing),
        token_public_keys=",".join([auth_public, admin_public, exam_public]),
        sweep_interval_s=3600, shutdown_grace_s=1)
    return settings, TokenSigner(auth_signing), TokenSigner(admin_signing)


@pytest.fixture
async def harness(exam_settings):
    h = await serve(*exam_settings)
    yield h
    await shut(h)


@pytest.fixture
async def second_replica(exam_settings, harness):
    """Another replica on the same database and clock, serving the harness's sitting."""
    h = await serve(*exam_settings, clock=harness.clock)
    h.sitting_id = harness.sitting_id
    yield h
    await shut(h)


