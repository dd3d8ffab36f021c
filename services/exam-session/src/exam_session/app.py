"""Wiring: build(settings) -> a ServiceHost with the servicer, the consumer, the outbox relay and
the sweeper. No globals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from psycopg import AsyncConnection

from exam_session import events
from exam_session.config import Settings
from exam_session.grpc_api import PUBLIC_METHODS, SERVICE, ExamSessionServicer
from exam_session.logic import ExamSessionLogic, utcnow
from exam_session.sweeper import Sweeper
from proctor.exam.v1 import exam_session_pb2_grpc
from proctor_runtime import outbox
from proctor_runtime.db import load_migrations, migrate, open_pool
from proctor_runtime.kafka import ConsumerLoop, EventProducer
from proctor_runtime.service import ServiceHost
from proctor_runtime.tokens import TokenSigner, TokenVerifier


async def build(settings: Settings, clock: Callable[[], datetime] = utcnow) -> ServiceHost:
    host = ServiceHost(settings, [SERVICE], public_methods=PUBLIC_METHODS,
                       clock=lambda: clock().timestamp())
    producer = EventProducer(settings.kafka_bootstrap, settings.service_name, settings.kafka_client_id)
    host.producers.append(producer)
    dsn = settings.database_url.get_secret_value()
    pool = await open_pool(dsn, settings.db_pool_min, settings.db_pool_max, settings.service_name)
    # the batched answer statements are each their own transaction: autocommit connections
    batch_pool = await open_pool(dsn, 1, settings.answer_batch_connections, f"{settings.service_name}-answers",
                                 autocommit=True)
    relay = outbox.OutboxRelay(pool, producer)
    logic = ExamSessionLogic(settings, pool, producer, relay,
                             TokenSigner(settings.token_signing_key.get_secret_value()),
                             TokenVerifier.from_setting(settings.token_public_keys,
                                                         lambda: clock().timestamp()), batch_pool, clock)
    host.add_servicer(exam_session_pb2_grpc.add_ExamSessionServicer_to_server, ExamSessionServicer(logic))
    host.consumers.append(ConsumerLoop(settings.kafka_bootstrap, settings.kafka_group_id,
                                       settings.service_name, events.subscriptions(logic), producer,
                                       max_attempts=settings.kafka_handler_retries,
                                       extra={"auto.offset.reset": settings.kafka_offset_reset}))
    sweeper = Sweeper(logic)
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
            await outbox.ensure_schema(conn)
            await migrate(conn, "exam-session", load_migrations("exam_session.migrations"))
        tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
        tasks.append(asyncio.create_task(sweeper.run(), name="sweeper"))

    async def stop() -> None:
        await sweeper.stop()
        await relay.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await logic.batcher.stop()
        await batch_pool.close()
        await pool.close()

    host.start_hooks.append(start)
    host.stop_hooks.append(stop)
    host.logic = logic  # type: ignore[attr-defined]  # for tests and the demo
    host.sweeper = sweeper  # type: ignore[attr-defined]
    return host
