"""Wiring: build(settings) -> a ServiceHost with the upload servicer (uploads and live stills), the
outbox relay and the deadline sweeper. The start hook runs the migrations; health stays NOT_SERVING
(and RPCs answer UNAVAILABLE NOT_READY) until it is done. No globals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from psycopg import AsyncConnection

from media_ingest.config import Settings
from media_ingest.exam_client import ExamSessionClient
from media_ingest.grpc_api import SERVICE, MediaIngestServicer
from media_ingest.stills import Stills
from media_ingest.uploads import Uploads, utcnow
from proctor.media.v1 import media_ingest_pb2_grpc
from proctor_runtime import outbox
from proctor_runtime.db import load_migrations, migrate, open_pool
from proctor_runtime.identity import ServiceIdentity
from proctor_runtime.kafka import EventProducer
from proctor_runtime.service import ServiceHost
from proctor_storage.store import SegmentStore, open_store

log = logging.getLogger(__name__)


async def build(settings: Settings, clock: Callable[[], datetime] = utcnow,
                objects: SegmentStore | None = None) -> ServiceHost:
    host = ServiceHost(settings, [SERVICE], clock=lambda: clock().timestamp())
    # closed by the stop hook, after the outbox relay drained
    producer = EventProducer(settings.kafka_bootstrap, settings.service_name, settings.kafka_client_id)
    dsn = settings.database_url.get_secret_value()
    pool = await open_pool(dsn, settings.db_pool_min, settings.db_pool_max, settings.service_name)
    relay = outbox.OutboxRelay(pool, producer)
    identity = ServiceIdentity(settings.service_name, settings.token_signing_key.get_secret_value(),
                               settings.service_token.get_secret_value(), clock=lambda: clock().timestamp())
    exam = ExamSessionClient(settings.exam_session_target, identity, settings.exam_session_timeout_s,
                             settings.sitting_cache_s)
    uploads = Uploads(settings, pool, relay, objects or open_store(settings.storage), exam, clock)
    stills = Stills(settings, pool, producer, lambda: uploads.ready, clock)  # publishes directly, no outbox
    host.add_servicer(media_ingest_pb2_grpc.add_MediaIngestServicer_to_server, MediaIngestServicer(uploads, stills))
    tasks: list[asyncio.Task[None]] = []
    stopping = asyncio.Event()

    async def start() -> None:
        async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
            await outbox.ensure_schema(conn)
            await migrate(conn, "media-ingest", load_migrations("media_ingest.migrations"))
        tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
        tasks.append(asyncio.create_task(uploads.run_sweeper(stopping), name="deadline-sweeper"))
        uploads.ready = True

    async def stop() -> None:
        uploads.ready = False
        stopping.set()
        await relay.stop(settings.shutdown_grace_s + 5)  # bounded; what is left is published at the next start
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.close()
        await exam.close()
        uploads.io.shutdown(wait=True)
        await pool.close()

    host.start_hooks.append(start)
    host.stop_hooks.append(stop)
    host.logic = uploads  # type: ignore[attr-defined]  # for tests
    return host
