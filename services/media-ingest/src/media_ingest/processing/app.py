"""Wiring: build(settings) -> a ServiceHost (health + metrics only, no RPCs) with the consumer of
received segments and stream verdicts, and the outbox relay that publishes what the worker queues.
The start hook applies media-ingest's migrations (the upload server applies the same package under
the same advisory lock) and health stays NOT_SERVING until it is done. No globals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from psycopg import AsyncConnection

from media_ingest.processing import events
from media_ingest.processing.config import WorkerSettings
from media_ingest.processing.worker import Worker, utcnow
from proctor_runtime import outbox
from proctor_runtime.db import load_migrations, migrate, open_pool
from proctor_runtime.kafka import ConsumerLoop, EventProducer
from proctor_runtime.service import ServiceHost
from proctor_storage.store import open_store

log = logging.getLogger(__name__)

SERVICE = "proctor.media.v1.MediaWorker"  # health name; the worker serves no RPCs
MIGRATIONS_COMPONENT = "media-ingest"


async def build(settings: WorkerSettings, clock: Callable[[], datetime] = utcnow) -> ServiceHost:
    host = ServiceHost(settings, [SERVICE])
    # closed by the stop hook, after the outbox relay drained
    producer = EventProducer(settings.kafka_bootstrap, settings.service_name, settings.kafka_client_id)
    dsn = settings.database_url.get_secret_value()
    pool = await open_pool(dsn, settings.db_pool_min, settings.db_pool_max, settings.service_name)
    relay = outbox.OutboxRelay(pool, producer)
    worker = Worker(settings, open_store(settings.storage), pool, relay, clock)
    host.consumers.append(ConsumerLoop(settings.kafka_bootstrap, settings.kafka_group_id, settings.service_name,
                                       events.subscriptions(worker.on_segment, worker.on_stream), producer,
                                       max_attempts=settings.kafka_handler_retries,
                                       extra={"auto.offset.reset": settings.kafka_offset_reset}))
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
            await outbox.ensure_schema(conn)
            await migrate(conn, MIGRATIONS_COMPONENT, load_migrations("media_ingest.migrations"))
        settings.work_dir.mkdir(parents=True, exist_ok=True)
        tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
        tasks.append(asyncio.create_task(flush_playlists(), name="playlists"))
        log.info("media worker ready", extra={"storage": settings.storage.url, "concurrency": settings.concurrency})

    async def flush_playlists() -> None:
        while True:
            await asyncio.sleep(max(0.5, settings.playlist_refresh_s / 2))
            try:
                await worker.flush()
            except Exception:
                log.exception("refreshing playlists failed; retried at the next round")

    async def stop() -> None:
        for task in tasks:
            if task.get_name() == "playlists":
                task.cancel()
        with contextlib.suppress(Exception):
            await worker.flush(everything=True)  # what the consumer handled last is in the playlists
        await relay.stop(settings.shutdown_grace_s + 5)  # bounded; what is left is published at the next start
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.close()
        await asyncio.to_thread(worker.close)
        await pool.close()

    host.start_hooks.append(start)
    host.stop_hooks.append(stop)
    host.worker = worker  # type: ignore[attr-defined]  # for tests
    return host
