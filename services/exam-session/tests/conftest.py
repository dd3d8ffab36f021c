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
async def harness(pg_dsn, kafka_bootstrap):
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
    h = await serve(settings, TokenSigner(auth_signing), TokenSigner(admin_signing))
    yield h
    await shut(h)


