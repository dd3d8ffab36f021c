"""Wiring: build(settings) -> a ServiceHost with the servicer, the roster consumer and the outbox
relay. The start hook runs the migrations and loads + warms the model pack: health stays
NOT_SERVING (and RPCs answer UNAVAILABLE NOT_READY) until it is done. No globals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from psycopg import AsyncConnection

from auth_face import events, store
from auth_face.config import Settings
from auth_face.core import Core, utcnow
from auth_face.crypto import TemplateCipher, derive_from_signing_key
from auth_face.domain import Step
from auth_face.enrolment import Enrolments
from auth_face.grpc_api import PUBLIC_METHODS, SERVICE, AuthFaceServicer, Logic
from auth_face.inference import Inference
from auth_face.login import Logins
from auth_face.review import Reviews
from auth_face.session_tokens import SessionTokenIssuer
from auth_face.sessions import Sessions
from proctor.auth.v1 import auth_face_pb2_grpc
from proctor_faces import FacesSettings, ModelPack, load_pack
from proctor_runtime import outbox
from proctor_runtime.db import load_migrations, migrate, open_pool
from proctor_runtime.kafka import ConsumerLoop, EventProducer
from proctor_runtime.service import ServiceHost

log = logging.getLogger(__name__)


def template_cipher(settings: Settings) -> TemplateCipher:
    keys = settings.template_keys.get_secret_value()
    if not keys:
        signing = settings.token_signing_key.get_secret_value()
        if not signing:
            raise ValueError("AUTH_FACE_TEMPLATE_KEYS (or at least AUTH_FACE_TOKEN_SIGNING_KEY) must be set")
        log.warning("AUTH_FACE_TEMPLATE_KEYS is not set: templates are encrypted with a key derived from the "
                    "token signing key (development only; set your own keys in production)")
        keys = derive_from_signing_key(signing)
    return TemplateCipher(keys)


async def build(settings: Settings, clock: Callable[[], datetime] = utcnow,
                challenge: Callable[[], list[Step]] | None = None,
                loader: Callable[[FacesSettings], ModelPack] = load_pack) -> ServiceHost:
    host = ServiceHost(settings, [SERVICE], public_methods=PUBLIC_METHODS, clock=lambda: clock().timestamp())
    # closed by the stop hook, after the outbox relay drained (the host closes its producers before
    # the stop hooks run, and a drain through a closed producer would never complete)
    producer = EventProducer(settings.kafka_bootstrap, settings.service_name, settings.kafka_client_id)
    dsn = settings.database_url.get_secret_value()
    pool = await open_pool(dsn, settings.db_pool_min, settings.db_pool_max, settings.service_name)
    relay = outbox.OutboxRelay(pool, producer)
    inference = Inference(settings.faces, settings.inference_workers, loader)
    core = Core(settings, pool, relay, inference, template_cipher(settings),
                SessionTokenIssuer(settings.token_signing_key.get_secret_value()), clock)
    logic = Logic(core, Enrolments(core), Logins(core, challenge), Sessions(core), Reviews(core))
    host.add_servicer(auth_face_pb2_grpc.add_AuthFaceServicer_to_server, AuthFaceServicer(logic))

    async def update_roster(sitting_id: str, candidate_id: str, room_id: str, name: str, version: int) -> None:
        async with pool.connection() as conn, conn.transaction():
            await store.upsert_roster(conn, sitting_id, candidate_id, room_id, name, version)

    host.consumers.append(ConsumerLoop(settings.kafka_bootstrap, settings.kafka_group_id, settings.service_name,
                                       events.subscriptions(update_roster), producer,
                                       max_attempts=settings.kafka_handler_retries,
                                       extra={"auto.offset.reset": settings.kafka_offset_reset}))
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
            await outbox.ensure_schema(conn)
            await migrate(conn, "auth-face", load_migrations("auth_face.migrations"))
        tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
        pack = await inference.load()
        log.info("model pack ready", extra={"pack": pack.describe(), "template_key": core.cipher.active})
        core.ready = True

    async def stop() -> None:
        core.ready = False
        await relay.stop(settings.shutdown_grace_s + 5)  # bounded; what is left is published at the next start
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.close()
        inference.close()
        await pool.close()

    host.start_hooks.append(start)
    host.stop_hooks.append(stop)
    host.logic = logic  # type: ignore[attr-defined]  # for tests
    return host
