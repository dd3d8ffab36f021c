"""Wiring: build(settings) -> a ServiceHost with the servicer, the consumers, the feed hub, the
outbox relay and the proctor web console. No globals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from psycopg import AsyncConnection

from notify.config import Settings
from notify.grpc_api import SERVICE, NotifyServicer
from notify.hub import FeedHub
from notify.ingest import Ingest
from notify.logic import NotifyLogic, utcnow
from proctor.notify.v1 import notify_pb2_grpc
from proctor_runtime import outbox
from proctor_runtime.db import load_migrations, migrate, open_pool
from proctor_runtime.kafka import ConsumerLoop, EventProducer
from proctor_runtime.service import ServiceHost
from proctor_storage import SegmentStore, open_store

log = logging.getLogger(__name__)


async def build(settings: Settings, clock: Callable[[], datetime] = utcnow,
                objects: SegmentStore | None = None) -> ServiceHost:
    host = ServiceHost(settings, [SERVICE], clock=lambda: clock().timestamp())
    producer = EventProducer(settings.kafka_bootstrap, settings.service_name, settings.kafka_client_id)
    host.producers.append(producer)
    dsn = settings.database_url.get_secret_value()
    pool = await open_pool(dsn, settings.db_pool_min, settings.db_pool_max, settings.service_name)
    relay = outbox.OutboxRelay(pool, producer)
    logic = NotifyLogic(settings, pool, FeedHub(dsn, lambda *a: logic.store.fetch(*a),
                                                lambda feed: logic.store.feed_head(feed),
                                                settings.catch_up_page), relay, clock)
    hub = logic.hub

    ingest = Ingest(pool, clock, settings.auto_warnings, lambda appends: hub.publish(appends.entries))
    host.add_servicer(notify_pb2_grpc.add_NotifyServicer_to_server, NotifyServicer(logic))
    host.consumers.append(ConsumerLoop(settings.kafka_bootstrap, settings.kafka_group_id, settings.service_name,
                                       ingest.subscriptions(), producer, max_attempts=settings.kafka_handler_retries,
                                       # librdkafka's fetch wait (500 ms): a record completes a waiting fetch at
                                       # once; a short wait only makes an idle consumer fetch more often (20 ms:
                                       # 49 fetches/s, 70 % of the broker's fetches in a 50-candidate sitting)
                                       batch_size=500, extra={"auto.offset.reset": settings.kafka_offset_reset}))
    store = objects if objects is not None else open_store(settings.storage)
    tasks: list[asyncio.Task[None]] = []
    console: list[object] = []

    async def prune() -> None:
        while True:
            await asyncio.sleep(settings.prune_interval_s)
            try:
                await logic.store.prune(clock() - timedelta(hours=settings.feed_retention_h))
            except Exception:
                log.exception("pruning the feed failed; retrying later")

    async def start() -> None:
        async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
            await outbox.ensure_schema(conn)
            await migrate(conn, "notify", load_migrations("notify.migrations"))
        hub.start()
        async with asyncio.timeout(30):
            await hub.listening.wait()
        tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
        tasks.append(asyncio.create_task(prune(), name="feed-prune"))
        if settings.http_port >= 0:
            from notify.console.server import start_console

            console.append(await start_console(settings.http_host, settings.http_port,
                                               f"127.0.0.1:{host.port}", store))

    async def close_console() -> None:
        for handle in console:
            await handle.stop()  # type: ignore[attr-defined]

    async def stop() -> None:
        for task in tasks:
            if task.get_name() == "feed-prune":
                task.cancel()
        await hub.stop()
        await relay.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await pool.close()

    host.start_hooks.append(start)
    host.stop_hooks.append(stop)
    host.drain_hooks.append(close_console)  # browsers' feeds end cleanly while gRPC still serves
    host.logic = logic  # type: ignore[attr-defined]  # for tests, the demo and the benchmark
    host.console = console  # type: ignore[attr-defined]
    return host

